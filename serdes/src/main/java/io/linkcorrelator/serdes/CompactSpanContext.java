package io.linkcorrelator.serdes;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A span context (128-bit trace id, 64-bit span id, trace flags) in a fixed 26-byte binary form:
 *
 * <pre>
 * offset  0: version, 0x00
 * offset  1: trace id, 16 bytes, big-endian (the W3C hex string's bytes)
 * offset 17: span id, 8 bytes, big-endian
 * offset 25: trace flags, 1 byte (bit 0: sampled)
 * </pre>
 *
 * <p>Half the size of a {@code traceparent} string and no parsing on read. All-zero ids are
 * representable (they mean "no valid context"); {@link #isValid()} tells.
 *
 * @param traceIdHigh upper 64 bits of the trace id
 * @param traceIdLow lower 64 bits of the trace id
 * @param spanId the span id
 * @param traceFlags the W3C trace flags
 */
public record CompactSpanContext(long traceIdHigh, long traceIdLow, long spanId, byte traceFlags) {

  /** Length of the encoding in bytes: {@value}. */
  public static final int ENCODED_LENGTH = 26;

  /** The only version written and read: {@value}. */
  public static final byte VERSION = 0;

  private static final HexFormat HEX = HexFormat.of();

  /**
   * Parses W3C hex ids.
   *
   * @param traceIdHex 32 hex characters
   * @param spanIdHex 16 hex characters
   * @param traceFlags the trace flags
   * @return the context
   * @throws IllegalArgumentException when an id is not hex of the right length
   */
  public static CompactSpanContext ofHex(String traceIdHex, String spanIdHex, byte traceFlags) {
    if (traceIdHex.length() != 32 || spanIdHex.length() != 16) {
      throw new IllegalArgumentException(
          "trace id needs 32 hex characters and span id 16, got "
              + traceIdHex.length()
              + " and "
              + spanIdHex.length());
    }
    return new CompactSpanContext(
        HexFormat.fromHexDigitsToLong(traceIdHex, 0, 16),
        HexFormat.fromHexDigitsToLong(traceIdHex, 16, 32),
        HexFormat.fromHexDigitsToLong(spanIdHex),
        traceFlags);
  }

  /**
   * Whether both ids are non-zero, as W3C requires of a valid context.
   *
   * @return true when the context can be linked to
   */
  public boolean isValid() {
    return (traceIdHigh != 0 || traceIdLow != 0) && spanId != 0;
  }

  /**
   * Whether the sampled flag (bit 0) is set.
   *
   * @return the sampled flag
   */
  public boolean isSampled() {
    return (traceFlags & 1) != 0;
  }

  /**
   * The trace id as 32 lowercase hex characters.
   *
   * @return the trace id
   */
  public String traceIdHex() {
    return HEX.toHexDigits(traceIdHigh) + HEX.toHexDigits(traceIdLow);
  }

  /**
   * The span id as 16 lowercase hex characters.
   *
   * @return the span id
   */
  public String spanIdHex() {
    return HEX.toHexDigits(spanId);
  }

  /**
   * Writes the 26-byte encoding at the buffer's position and advances it.
   *
   * @param out a buffer with at least {@link #ENCODED_LENGTH} bytes remaining
   */
  public void writeTo(ByteBuffer out) {
    out.put(VERSION).putLong(traceIdHigh).putLong(traceIdLow).putLong(spanId).put(traceFlags);
  }

  /**
   * The 26-byte encoding.
   *
   * @return a new array
   */
  public byte[] toBytes() {
    ByteBuffer out = ByteBuffer.allocate(ENCODED_LENGTH);
    writeTo(out);
    return out.array();
  }

  /**
   * Reads one encoding at the buffer's position and advances it.
   *
   * @param in the buffer
   * @return the context
   * @throws SerializationException when fewer than 26 bytes remain or the version is unknown
   */
  public static CompactSpanContext readFrom(ByteBuffer in) {
    if (in.remaining() < ENCODED_LENGTH) {
      throw new SerializationException(
          "truncated span context: "
              + in.remaining()
              + " bytes, the encoding is "
              + ENCODED_LENGTH);
    }
    byte version = in.get();
    if (version != VERSION) {
      throw new SerializationException(
          "unknown span context encoding version " + version + ", expected " + VERSION);
    }
    return new CompactSpanContext(in.getLong(), in.getLong(), in.getLong(), in.get());
  }

  /**
   * Decodes exactly one encoding.
   *
   * @param bytes the 26 bytes
   * @return the context
   * @throws SerializationException when the length or the version is wrong
   */
  public static CompactSpanContext fromBytes(byte[] bytes) {
    if (bytes.length != ENCODED_LENGTH) {
      throw new SerializationException(
          "a span context is " + ENCODED_LENGTH + " bytes, got " + bytes.length);
    }
    return readFrom(ByteBuffer.wrap(bytes));
  }

  /**
   * A Kafka serde for this encoding; {@code null} maps to {@code null}.
   *
   * @return the serde
   */
  public static Serde<CompactSpanContext> serde() {
    Serializer<CompactSpanContext> serializer =
        (topic, context) -> context == null ? null : context.toBytes();
    Deserializer<CompactSpanContext> deserializer =
        (topic, bytes) -> bytes == null ? null : fromBytes(bytes);
    return Serdes.serdeFrom(serializer, deserializer);
  }

  @Override
  public String toString() {
    return "00-" + traceIdHex() + "-" + spanIdHex() + "-" + HEX.toHexDigits(traceFlags);
  }
}
