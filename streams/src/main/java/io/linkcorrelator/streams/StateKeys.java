package io.linkcorrelator.streams;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.kafka.common.utils.Bytes;

/**
 * Byte layouts of the state-store keys. Stores compare keys as unsigned bytes, so numbers are
 * big-endian with the sign bit flipped (negative sorts before positive) and the group key is
 * length-prefixed (all keys of one group are contiguous).
 *
 * <pre>
 * contributor log : [key length varint][key][bucket start 8][topic id varint][partition varint][offset varint]
 * log topic ids   : [3][topic], in the stream-time store (see {@link ContributorLog})
 * windows         : [key length 4][key][start 8][end 8]
 * close index     : [close time 8][key length 4][key][start 8][end 8]
 * </pre>
 *
 * The contributor log holds pages ({@link ContributorLog}): a page's key is its group key, the
 * start of its event-time bucket and the id of its first entry's original message (its topic by an
 * id that the stream-time store maps to the topic's name, never a hash of it, then partition and
 * offset), so pages of one key sort by bucket, and a page started again by the same message after a
 * failure overwrites the one it started before. Varints are zig-zag ({@link Varints}): a key
 * length's first byte is never 0xFF.
 */
final class StateKeys {

  /** Longest page id after the bucket: topic id, partition and offset varints. */
  private static final int LOG_PAGE_ID_MAX = 5 + 5 + 10;

  /**
   * First byte of the contributor log's topic ids in {@value CorrelatorTopology#STREAM_TIME_STORE}
   * (after the ids of {@link StoredLong} and the upstream progress of {@code
   * SlowestPartitionTime}).
   */
  static final byte LOG_TOPIC_ID = 3;

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

  static Bytes close(long closeTime, Bytes windowKey) {
    byte[] window = windowKey.get();
    return Bytes.wrap(
        ByteBuffer.allocate(8 + window.length).putLong(flip(closeTime)).put(window).array());
  }

  static Bytes closeTo(long closeTime) {
    byte[] bytes = ByteBuffer.allocate(9).putLong(flip(closeTime)).put((byte) 0xFF).array();
    return Bytes.wrap(bytes);
  }

  /** First possible close-index key at or after {@code closeTime}. */
  static Bytes closeFrom(long closeTime) {
    return Bytes.wrap(ByteBuffer.allocate(8).putLong(flip(closeTime)).array());
  }

  /** Past every close-index key. */
  static Bytes closeEnd() {
    byte[] bytes = new byte[9];
    Arrays.fill(bytes, (byte) 0xFF);
    return Bytes.wrap(bytes);
  }

  static long closeTime(Bytes closeKey) {
    return flip(ByteBuffer.wrap(closeKey.get()).getLong(0));
  }

  /** The windows-store key inside a close-index key. */
  static Bytes windowOfClose(Bytes closeKey) {
    byte[] bytes = closeKey.get();
    return Bytes.wrap(Arrays.copyOfRange(bytes, 8, bytes.length));
  }

  /** The group key inside a windows-store key. */
  static String groupKeyOfWindow(Bytes windowKey) {
    byte[] bytes = windowKey.get();
    int length = ByteBuffer.wrap(bytes).getInt(0);
    return new String(bytes, 4, length, StandardCharsets.UTF_8);
  }

  static byte[] groupKeyBytesOfWindow(Bytes windowKey) {
    byte[] bytes = windowKey.get();
    int length = ByteBuffer.wrap(bytes).getInt(0);
    return Arrays.copyOfRange(bytes, 4, 4 + length);
  }

  private static ByteBuffer prefix(byte[] key, int suffix) {
    return ByteBuffer.allocate(4 + key.length + suffix).putInt(key.length).put(key);
  }

  private static long flip(long value) {
    return value ^ Long.MIN_VALUE;
  }
}
