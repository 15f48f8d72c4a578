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
 * contributor log : [key length varint][key][event time 8][partition varint][offset varint][topic id varint]
 * log topic ids   : [3][topic], in the stream-time store (see {@link ContributorLog})
 * windows         : [key length 4][key][start 8][end 8]
 * close index     : [close time 8][key length 4][key][start 8][end 8]
 * </pre>
 *
 * The log's suffix names the original message in full (its topic by an id that the log store itself
 * maps to the topic's name, never a hash of it), so reprocessing a message after a failure
 * overwrites its entry instead of adding a second one, and two topics never overwrite each other's
 * entries. Varints are zig-zag ({@link Varints}): a key length's first byte is never 0xFF.
 */
final class StateKeys {

  /** Longest log key suffix after the event time: partition, offset and topic id varints. */
  private static final int LOG_SOURCE_MAX = 5 + 10 + 5;

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

  /** The log key of a message: its group key, event time and source coordinates. */
  static Bytes log(byte[] key, long time, int partition, long offset, int topicId) {
    ByteBuffer buffer =
        logPrefix(
                key,
                8 + Varints.sizeOf(partition) + Varints.sizeOf(offset) + Varints.sizeOf(topicId))
            .putLong(flip(time));
    Varints.write(partition, buffer);
    Varints.write(offset, buffer);
    Varints.write(topicId, buffer);
    return Bytes.wrap(buffer.array());
  }

  /** First possible log key of {@code key} at or after {@code time}. */
  static Bytes logFrom(byte[] key, long time) {
    return Bytes.wrap(logPrefix(key, 8).putLong(flip(time)).array());
  }

  /** Last possible log key of {@code key} at or before {@code time}. */
  static Bytes logTo(byte[] key, long time) {
    ByteBuffer buffer = logPrefix(key, 8 + LOG_SOURCE_MAX).putLong(flip(time));
    byte[] bytes = buffer.array();
    Arrays.fill(bytes, buffer.position(), bytes.length, (byte) 0xFF);
    return Bytes.wrap(bytes);
  }

  /**
   * Reads a log key back past the group key.
   *
   * @param logKey the whole log key
   * @return positioned at the event time
   */
  static ByteBuffer logSuffix(Bytes logKey) {
    ByteBuffer in = ByteBuffer.wrap(logKey.get());
    int length = Varints.readInt(in);
    return in.position(in.position() + length);
  }

  static long readTime(ByteBuffer in) {
    return flip(in.getLong());
  }

  /** The group key of a log entry's key. */
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
