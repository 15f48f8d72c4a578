package io.linkcorrelator.streams;

import io.linkcorrelator.serdes.CompactSpanContext;
import io.linkcorrelator.streams.propagation.Sampling;
import io.linkcorrelator.streams.propagation.TraceContext;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;

/**
 * The compact binary form of what the capture step hands on ({@link Captured}). A {@link
 * Contribution} is used both on the repartition topic and in the contributor log (state), so a
 * linked message costs about 40 bytes:
 *
 * <pre>
 * kind 0x03 (a contribution, in this version of the format; 0x01 held a numeric value as a double)
 * flags (bit 0: has value)
 * topic (varint length, UTF-8) · partition (varint) · offset (varlong) · timestamp (varlong)
 * value (varint length and bytes, when flagged: what the window's aggregate folds at close)
 * context count (varint), each: 26-byte CompactSpanContext · tracestate (varint length, UTF-8) ·
 *   format and sampling (1 byte: sampling ordinal in bits 6-7, format index in FORMATS in bits
 *   0-5, or 0x3F there followed by the name as varint length and UTF-8)
 * </pre>
 *
 * A {@link Progress} marker, only ever on the repartition topic:
 *
 * <pre>
 * kind 0x02 · topic (varint length, UTF-8) · partition (varint) · event time (varlong)
 * </pre>
 */
final class ContributionSerde
    implements Serde<Captured>, Serializer<Captured>, Deserializer<Captured> {

  static final ContributionSerde INSTANCE = new ContributionSerde();

  private static final byte VERSION = 3;
  private static final byte PROGRESS = 2;
  private static final List<String> FORMATS = List.of("tracecontext", "datadog", "b3", "jaeger");
  private static final int OTHER_FORMAT = 0x3F;

  private ContributionSerde() {}

  @Override
  public byte[] serialize(String topic, Captured captured) {
    if (captured instanceof Progress progress) {
      return encode(progress);
    }
    return captured == null ? null : encode((Contribution) captured);
  }

  @Override
  public Captured deserialize(String topic, byte[] data) {
    if (data == null) {
      return null;
    }
    return data.length > 0 && data[0] == PROGRESS ? decodeProgress(data) : decode(data);
  }

  static byte[] encode(Progress p) {
    byte[] topic = p.topic().getBytes(StandardCharsets.UTF_8);
    ByteBuffer out =
        ByteBuffer.allocate(
            1
                + Varints.sizeOf(topic.length)
                + topic.length
                + Varints.sizeOf(p.partition())
                + Varints.sizeOf(p.eventTime()));
    out.put(PROGRESS);
    Varints.write(topic.length, out);
    out.put(topic);
    Varints.write(p.partition(), out);
    Varints.write(p.eventTime(), out);
    return out.array();
  }

  static Progress decodeProgress(byte[] data) {
    try {
      ByteBuffer in = ByteBuffer.wrap(data);
      in.get();
      Progress progress = new Progress(readString(in), Varints.readInt(in), Varints.readLong(in));
      if (in.hasRemaining()) {
        throw new SerializationException(
            "corrupt progress marker: " + in.remaining() + " trailing bytes");
      }
      return progress;
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      throw new SerializationException(
          "corrupt progress marker (" + data.length + " bytes): " + e, e);
    }
  }

  static byte[] encode(Contribution c) {
    byte[] topic = c.topic().getBytes(StandardCharsets.UTF_8);
    int size =
        2
            + Varints.sizeOf(topic.length)
            + topic.length
            + Varints.sizeOf(c.partition())
            + Varints.sizeOf(c.offset())
            + Varints.sizeOf(c.timestamp())
            + (c.value() == null
                ? 0
                : Varints.sizeOf(c.value().get().length) + c.value().get().length)
            + Varints.sizeOf(c.contexts().size());
    List<byte[]> states = new ArrayList<>(c.contexts().size());
    List<byte[]> otherFormats = new ArrayList<>(c.contexts().size());
    for (TraceContext context : c.contexts()) {
      byte[] state = context.traceState().getBytes(StandardCharsets.UTF_8);
      states.add(state);
      size += CompactSpanContext.ENCODED_LENGTH + Varints.sizeOf(state.length) + state.length + 1;
      if (!FORMATS.contains(context.format())) {
        byte[] format = context.format().getBytes(StandardCharsets.UTF_8);
        otherFormats.add(format);
        size += Varints.sizeOf(format.length) + format.length;
      } else {
        otherFormats.add(null);
      }
    }
    ByteBuffer out = ByteBuffer.allocate(size);
    out.put(VERSION).put((byte) (c.value() == null ? 0 : 1));
    Varints.write(topic.length, out);
    out.put(topic);
    Varints.write(c.partition(), out);
    Varints.write(c.offset(), out);
    Varints.write(c.timestamp(), out);
    if (c.value() != null) {
      Varints.write(c.value().get().length, out);
      out.put(c.value().get());
    }
    Varints.write(c.contexts().size(), out);
    for (int i = 0; i < c.contexts().size(); i++) {
      TraceContext context = c.contexts().get(i);
      context.ids().writeTo(out);
      Varints.write(states.get(i).length, out);
      out.put(states.get(i));
      byte[] other = otherFormats.get(i);
      int sampling = context.sampling().ordinal() << 6;
      if (other == null) {
        out.put((byte) (sampling | FORMATS.indexOf(context.format())));
      } else {
        out.put((byte) (sampling | OTHER_FORMAT));
        Varints.write(other.length, out);
        out.put(other);
      }
    }
    return out.array();
  }

  static Contribution decode(byte[] data) {
    try {
      ByteBuffer in = ByteBuffer.wrap(data);
      byte version = in.get();
      if (version != VERSION) {
        throw new SerializationException(
            "unknown contribution encoding version " + version + ", expected " + VERSION);
      }
      boolean hasValue = (in.get() & 1) != 0;
      String topic = readString(in);
      int partition = Varints.readInt(in);
      long offset = Varints.readLong(in);
      long timestamp = Varints.readLong(in);
      Bytes value = hasValue ? Bytes.wrap(readBytes(in)) : null;
      int count = Varints.readInt(in);
      if (count < 0 || count > in.remaining() / CompactSpanContext.ENCODED_LENGTH) {
        throw new SerializationException("corrupt contribution: " + count + " contexts");
      }
      List<TraceContext> contexts = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        CompactSpanContext ids = CompactSpanContext.readFrom(in);
        String state = readString(in);
        int format = in.get() & 0xFF;
        Sampling sampling = Sampling.values()[Math.min(format >>> 6, 2)];
        int index = format & OTHER_FORMAT;
        String name = index == OTHER_FORMAT ? readString(in) : FORMATS.get(index);
        contexts.add(new TraceContext(ids, state, name, sampling));
      }
      if (in.hasRemaining()) {
        throw new SerializationException(
            "corrupt contribution: " + in.remaining() + " trailing bytes");
      }
      return new Contribution(topic, partition, offset, timestamp, contexts, value);
    } catch (BufferUnderflowException | IllegalArgumentException | IndexOutOfBoundsException e) {
      throw new SerializationException("corrupt contribution (" + data.length + " bytes): " + e, e);
    }
  }

  private static String readString(ByteBuffer in) {
    int length = Varints.readInt(in);
    if (length < 0 || length > in.remaining()) {
      throw new SerializationException("corrupt contribution: string of " + length + " bytes");
    }
    String value =
        new String(in.array(), in.arrayOffset() + in.position(), length, StandardCharsets.UTF_8);
    in.position(in.position() + length);
    return value;
  }

  private static byte[] readBytes(ByteBuffer in) {
    int length = Varints.readInt(in);
    if (length < 0 || length > in.remaining()) {
      throw new SerializationException("corrupt contribution: value of " + length + " bytes");
    }
    byte[] bytes = new byte[length];
    in.get(bytes);
    return bytes;
  }

  @Override
  public Serializer<Captured> serializer() {
    return this;
  }

  @Override
  public Deserializer<Captured> deserializer() {
    return this;
  }

  @Override
  public void configure(java.util.Map<String, ?> configs, boolean isKey) {}

  @Override
  public void close() {}
}
