package io.linkcorrelator.streams;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Byte layouts of the state-store keys. Stores compare keys as unsigned bytes, so numbers are
 * big-endian with the sign bit flipped (negative sorts before positive) and the group key is
 * length-prefixed (all keys of one group are contiguous).
 *
 * <pre>
 * {@code <name>-contributors}, the contributor log, pages ({@link ContributorLog}):
 *   [key length varint][key][bucket start 8][topic id varint][partition varint][offset varint]
 * {@code <name>-windows}, the window state, each kind under its first byte:
 *   stream time          [0]                     8-byte number ({@link StoredLong})
 *   (kind 1, the latest session end of earlier versions, is no longer written nor read)
 *   upstream progress    [2][partition 4][topic] 8-byte number ({@link SlowestPartitionTime})
 *   log topic ids        [3][topic]              varint id ({@link ContributorLog})
 *   open windows         [4][key length varint][key][start 8][end 8]  span start, 8 bytes (a
 *                        session reaching back over older ones: and their bound, 8 more,
 *                        {@link SessionWindowRule})
 * </pre>
 *
 * The open windows' close index is not stored: {@link OpenWindows} keeps it in memory, built from
 * the open windows when a task starts. Kind 5, the close index of the previous layout ([5][close
 * time 8][the open window's key after its first byte]), is deleted then ({@link
 * #deleteEarlierCloseIndex}). A key whose first byte is 0 and that is longer than one byte was
 * written by an older layout (its own windows store, keys starting with a 4-byte key length):
 * {@link #refuseEarlierLayout} refuses it.
 *
 * <p>A page's key is its group key, the start of its event-time bucket and the id of its first
 * entry's original message (its topic by an id that the window state maps to the topic's name,
 * never a hash of it, then partition and offset), so pages of one key sort by bucket, and a page
 * started again by the same message after a failure continues the one it started before. Varints
 * are zig-zag ({@link Varints}): a key length's first byte is never 0xFF.
 */
final class StateKeys {

  /** Longest page id after the bucket: topic id, partition and offset varints. */
  private static final int LOG_PAGE_ID_MAX = 5 + 5 + 10;

  /** First byte of the stream time in the window state. */
  static final byte STREAM_TIME = 0;

  /** First byte of an upstream partition's progress in the window state. */
  static final byte PROGRESS = 2;

  /** First byte of the contributor log's topic ids in the window state. */
  static final byte LOG_TOPIC_ID = 3;

  /** First byte of an open window in the window state. */
  static final byte WINDOW = 4;

  /**
   * First byte of the close-index entries of an earlier layout ({@link #deleteEarlierCloseIndex}).
   */
  static final byte EARLIER_CLOSE_INDEX = 5;

  /** Where the keys of an earlier layout would start (and nothing of this one does). */
  private static final Bytes EARLIER_LAYOUT_FROM = Bytes.wrap(new byte[] {STREAM_TIME, 0});

  private static final Bytes EARLIER_LAYOUT_TO = Bytes.wrap(new byte[] {STREAM_TIME + 1});

  private StateKeys() {}

  static byte[] groupKey(String key) {
    return key.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The key of a contributor log page: its group key, its time bucket and the source coordinates of
   * its first entry.
   */
  static Bytes logPage(byte[] key, long bucket, int topicId, int partition, long offset) {
    ByteBuffer buffer =
        logPrefix(
                key,
                8 + Varints.sizeOf(topicId) + Varints.sizeOf(partition) + Varints.sizeOf(offset))
            .putLong(flip(bucket));
    Varints.write(topicId, buffer);
    Varints.write(partition, buffer);
    Varints.write(offset, buffer);
    return Bytes.wrap(buffer.array());
  }

  /** First possible page key of {@code key} in the bucket starting at {@code bucket} or later. */
  static Bytes logFrom(byte[] key, long bucket) {
    return Bytes.wrap(logPrefix(key, 8).putLong(flip(bucket)).array());
  }

  /** Last possible page key of {@code key} in the bucket starting at {@code bucket} or earlier. */
  static Bytes logTo(byte[] key, long bucket) {
    ByteBuffer buffer = logPrefix(key, 8 + LOG_PAGE_ID_MAX).putLong(flip(bucket));
    byte[] bytes = buffer.array();
    Arrays.fill(bytes, buffer.position(), bytes.length, (byte) 0xFF);
    return Bytes.wrap(bytes);
  }

  /** The bucket start of a page key. */
  static long bucketOfLog(Bytes pageKey) {
    ByteBuffer in = ByteBuffer.wrap(pageKey.get());
    int length = Varints.readInt(in);
    return flip(in.getLong(in.position() + length));
  }

  /** The group key of a log page's key. */
  static String groupKeyOfLog(Bytes logKey) {
    ByteBuffer in = ByteBuffer.wrap(logKey.get());
    int length = Varints.readInt(in);
    return new String(logKey.get(), in.position(), length, StandardCharsets.UTF_8);
  }

  static Bytes logTopicId(String topic) {
    byte[] name = topic.getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(ByteBuffer.allocate(1 + name.length).put(LOG_TOPIC_ID).put(name).array());
  }

  static Bytes logTopicIdsFrom() {
    return Bytes.wrap(new byte[] {LOG_TOPIC_ID});
  }

  static Bytes logTopicIdsTo() {
    return Bytes.wrap(new byte[] {LOG_TOPIC_ID + 1});
  }

  static String topicOfLogTopicId(Bytes key) {
    byte[] bytes = key.get();
    return new String(bytes, 1, bytes.length - 1, StandardCharsets.UTF_8);
  }

  private static ByteBuffer logPrefix(byte[] key, int suffix) {
    ByteBuffer buffer = ByteBuffer.allocate(Varints.sizeOf(key.length) + key.length + suffix);
    Varints.write(key.length, buffer);
    return buffer.put(key);
  }

  /**
   * Fails when the window state {@code store} (named {@code name}) holds keys of an earlier layout.
   * One seek, at task start.
   */
  static void refuseEarlierLayout(KeyValueStore<Bytes, byte[]> store, String name) {
    try (KeyValueIterator<Bytes, byte[]> earlier =
        store.range(EARLIER_LAYOUT_FROM, EARLIER_LAYOUT_TO)) {
      if (earlier.hasNext() && earlier.next().key.get()[0] == STREAM_TIME) {
        throw new IllegalStateException(
            "state store "
                + name
                + " holds windows written by an earlier version of the correlator (before open"
                + " windows, close index and stream time shared one store); reset the application"
                + " (kafka-streams-application-reset) to upgrade");
      }
    }
  }

  /** The key of a number kept under one byte ({@link #STREAM_TIME}). */
  static Bytes single(byte kind) {
    return Bytes.wrap(new byte[] {kind});
  }

  /** The progress key of upstream partition {@code topic}-{@code partition}. */
  static Bytes progress(String topic, int partition) {
    byte[] name = topic.getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(
        ByteBuffer.allocate(1 + 4 + name.length).put(PROGRESS).putInt(partition).put(name).array());
  }

  static Bytes progressFrom() {
    return Bytes.wrap(new byte[] {PROGRESS, 0});
  }

  static Bytes progressTo() {
    return Bytes.wrap(new byte[] {PROGRESS + 1});
  }

  static Bytes window(byte[] key, long start, long end) {
    return Bytes.wrap(prefix(key, 16).putLong(flip(start)).putLong(flip(end)).array());
  }

  static Bytes windowFrom(byte[] key, long start) {
    return Bytes.wrap(prefix(key, 16).putLong(flip(start)).array());
  }

  static Bytes windowTo(byte[] key, long start) {
    return Bytes.wrap(prefix(key, 16).putLong(flip(start)).putLong(-1L).array());
  }

  static long windowStart(Bytes windowKey) {
    byte[] bytes = windowKey.get();
    return flip(ByteBuffer.wrap(bytes).getLong(bytes.length - 16));
  }

  static long windowEnd(Bytes windowKey) {
    byte[] bytes = windowKey.get();
    return flip(ByteBuffer.wrap(bytes).getLong(bytes.length - 8));
  }

  /**
   * Deletes the close-index entries that an earlier layout kept in the window state (kind {@link
   * #EARLIER_CLOSE_INDEX}; the close index is now kept in memory, {@link OpenWindows}): its open
   * windows are this layout's, so an upgrade keeps them. One range, at task start.
   */
  static void deleteEarlierCloseIndex(KeyValueStore<Bytes, byte[]> store) {
    List<Bytes> earlier = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> entries =
        store.range(
            Bytes.wrap(new byte[] {EARLIER_CLOSE_INDEX}),
            Bytes.wrap(new byte[] {EARLIER_CLOSE_INDEX + 1}))) {
      while (entries.hasNext()) {
        Bytes key = entries.next().key;
        if (key.get()[0] == EARLIER_CLOSE_INDEX) {
          earlier.add(key);
        }
      }
    }
    earlier.forEach(store::delete);
  }

  /** First possible open-window key. */
  static Bytes windowsFrom() {
    return Bytes.wrap(new byte[] {WINDOW});
  }

  /** Past every open-window key. */
  static Bytes windowsTo() {
    return Bytes.wrap(new byte[] {WINDOW + 1});
  }

  /** The group key inside an open window's key. */
  static String groupKeyOfWindow(Bytes windowKey) {
    ByteBuffer in = ByteBuffer.wrap(windowKey.get(), 1, windowKey.get().length - 1);
    int length = Varints.readInt(in);
    return new String(windowKey.get(), in.position(), length, StandardCharsets.UTF_8);
  }

  static byte[] groupKeyBytesOfWindow(Bytes windowKey) {
    ByteBuffer in = ByteBuffer.wrap(windowKey.get(), 1, windowKey.get().length - 1);
    int length = Varints.readInt(in);
    return Arrays.copyOfRange(windowKey.get(), in.position(), in.position() + length);
  }

  private static ByteBuffer prefix(byte[] key, int suffix) {
    ByteBuffer buffer =
        ByteBuffer.allocate(1 + Varints.sizeOf(key.length) + key.length + suffix).put(WINDOW);
    Varints.write(key.length, buffer);
    return buffer.put(key);
  }

  private static long flip(long value) {
    return value ^ Long.MIN_VALUE;
  }
}
