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
 * contributor log : [key length 4][key][event time 8][partition 4][offset 8][topic]
 * windows         : [key length 4][key][start 8][end 8]
 * close index     : [close time 8][key length 4][key][start 8][end 8]
 * </pre>
 *
 * The log's suffix names the original message in full (the topic's own bytes, never a hash of it),
 * so reprocessing a message after a failure overwrites its entry instead of adding a second one,
 * and two topics never overwrite each other's entries.
 */
final class StateKeys {

  /** The fixed part of a log key after the group key: event time, partition, offset. */
  static final int LOG_SUFFIX = 8 + 4 + 8;

  private StateKeys() {}

  static byte[] groupKey(String key) {
    return key.getBytes(StandardCharsets.UTF_8);
  }

  static Bytes log(byte[] key, Contribution c) {
    byte[] topic = c.topic().getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(
        prefix(key, LOG_SUFFIX + topic.length)
            .putLong(flip(c.timestamp()))
            .putInt(c.partition())
            .putLong(c.offset())
            .put(topic)
            .array());
  }

  /** First possible log key of {@code key} at or after {@code time}. */
  static Bytes logFrom(byte[] key, long time) {
    return Bytes.wrap(prefix(key, LOG_SUFFIX).putLong(flip(time)).array());
  }

  /** Last possible log key of {@code key} at or before {@code time}. */
  static Bytes logTo(byte[] key, long time) {
    ByteBuffer buffer = prefix(key, LOG_SUFFIX).putLong(flip(time));
    byte[] bytes = buffer.array();
    Arrays.fill(bytes, buffer.position(), bytes.length, (byte) 0xFF);
    return Bytes.wrap(bytes);
  }

  static long logTime(Bytes logKey, int groupKeyLength) {
    return flip(ByteBuffer.wrap(logKey.get()).getLong(4 + groupKeyLength));
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
