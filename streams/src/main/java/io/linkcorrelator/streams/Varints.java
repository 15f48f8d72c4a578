package io.linkcorrelator.streams;

import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;

/** Zig-zag variable-length integers (as Avro and protobuf write them): small values, few bytes. */
final class Varints {

  private Varints() {}

  static int sizeOf(long value) {
    long v = (value << 1) ^ (value >> 63);
    int bytes = 1;
    while ((v & ~0x7FL) != 0) {
      bytes++;
      v >>>= 7;
    }
    return bytes;
  }

  static void write(long value, ByteBuffer out) {
    long v = (value << 1) ^ (value >> 63);
    while ((v & ~0x7FL) != 0) {
      out.put((byte) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.put((byte) v);
  }

  static long readLong(ByteBuffer in) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte b = in.get();
      v |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return (v >>> 1) ^ -(v & 1);
      }
    }
    throw new SerializationException("malformed varint: more than 10 bytes");
  }

  static int readInt(ByteBuffer in) {
    long value = readLong(in);
    if (value != (int) value) {
      throw new SerializationException("varint " + value + " does not fit an int");
    }
    return (int) value;
  }
}
