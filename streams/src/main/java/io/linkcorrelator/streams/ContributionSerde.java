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
 * In the contributor log an entry's page already holds the source coordinates and the event time
 * (see {@link ContributorLog}), so the rest of the entry is only (a linked message: 27 bytes):
 *
 * <pre>
 * flags: bit 7 set (this layout), bit 5 at the horizon, bit 4 has arrival lag, bit 0 has value,
 *   bits 1-3 the context count (7: a varint follows)
 * [arrival lag varint] · value (varint length and bytes, when flagged) · [context count varint]
 * each context: trace id 16 · span id 8 · trace flags 1 · format and sampling (1 byte: sampling
 *   ordinal in bits 6-7, bit 3 has tracestate, format index in FORMATS in bits 0-2, or 7 there
 *   followed by the name as varint length and UTF-8) · [tracestate varint length, UTF-8]
 * </pre>
 *
 * The arrival lag is how far the stream time was past the message's event time when it was appended
 * (absent: not past it): a window holds only the messages that arrived before it closed, though its
 * result may be built later ({@link ContributorLog#entries}). An entry AT THE HORIZON started a
 * session that no later record merges with, in the last millisecond before that session closes
 * ({@link SessionWindowRule}); for session windows only, it costs no byte.
 *
 * <p>A {@link Progress} marker, only ever on the repartition topic:
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

  /** Flags of a contributor log entry: this layout (never set in the first byte of version 1). */
  private static final int ENTRY_LAYOUT = 0x80;

  /** A context count of 7 or more is written as a varint after the flags. */
  private static final int ENTRY_MORE_CONTEXTS = 7;

  private static final int ENTRY_OTHER_FORMAT = 7;
  private static final int ENTRY_HAS_STATE = 0x08;

  /** Flag of a contributor log entry: an arrival lag (varint) follows the flags. */
  private static final int ENTRY_ARRIVAL_LAG = 0x10;

  /** Flag of a contributor log entry: it started a session at the horizon (session windows). */
  private static final int ENTRY_AT_HORIZON = 0x20;

  /** Trace id, span id and trace flags. */
  private static final int ENTRY_CONTEXT_BYTES = 16 + 8 + 1;

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

  /**
   * A contributor log entry's contexts and value as an array of its own ({@link #writeEntry}),
   * without an arrival lag.
   */
  static byte[] encodeEntry(Contribution c) {
    ByteBuffer out = ByteBuffer.allocate(entrySize(c, 0));
    writeEntry(c, 0, false, out);
    return out.array();
  }

  /** The size of {@link #writeEntry}'s bytes. */
  static int entrySize(Contribution c, long arrivalLag) {
    List<TraceContext> contexts = c.contexts();
    int count = contexts.size();
    byte[] value = c.value() == null ? null : c.value().get();
    int size =
        1
            + (arrivalLag > 0 ? Varints.sizeOf(arrivalLag) : 0)
            + (value == null ? 0 : Varints.sizeOf(value.length) + value.length)
            + (count >= ENTRY_MORE_CONTEXTS ? Varints.sizeOf(count) : 0);
    for (int i = 0; i < count; i++) {
      TraceContext context = contexts.get(i);
      size += ENTRY_CONTEXT_BYTES + 1;
      if (!context.traceState().isEmpty()) { // rare: encoded again when written
        size += sizeWithLength(context.traceState().getBytes(StandardCharsets.UTF_8));
      }
      if (entryFormat(context) == ENTRY_OTHER_FORMAT) {
        size += sizeWithLength(context.format().getBytes(StandardCharsets.UTF_8));
      }
    }
    return size;
  }

  /**
   * Writes a contributor log entry's contexts and value (the layout in the class documentation)
   * where the page is being built, so that a record's entry is encoded once, not into an array of
   * its own first.
   *
   * @param arrivalLag how far stream time was past the entry's event time when it arrived (0: not)
   * @param atHorizon whether it started a session at the horizon ({@link SessionWindowRule})
   */
  static void writeEntry(Contribution c, long arrivalLag, boolean atHorizon, ByteBuffer out) {
    List<TraceContext> contexts = c.contexts();
    int count = contexts.size();
    byte[] value = c.value() == null ? null : c.value().get();
    out.put(
        (byte)
            (ENTRY_LAYOUT
                | (arrivalLag > 0 ? ENTRY_ARRIVAL_LAG : 0)
                | (atHorizon ? ENTRY_AT_HORIZON : 0)
                | Math.min(count, ENTRY_MORE_CONTEXTS) << 1
                | (value == null ? 0 : 1)));
    if (arrivalLag > 0) {
      Varints.write(arrivalLag, out);
    }
    if (value != null) {
      Varints.write(value.length, out);
      out.put(value);
    }
    if (count >= ENTRY_MORE_CONTEXTS) {
      Varints.write(count, out);
    }
    for (int i = 0; i < count; i++) {
      TraceContext context = contexts.get(i);
      out.putLong(context.ids().traceIdHigh())
          .putLong(context.ids().traceIdLow())
          .putLong(context.ids().spanId())
          .put(context.ids().traceFlags());
      int sampling = context.sampling().ordinal() << 6;
      boolean hasState = !context.traceState().isEmpty();
      int format = entryFormat(context);
      out.put((byte) (sampling | (hasState ? ENTRY_HAS_STATE : 0) | format));
      if (format == ENTRY_OTHER_FORMAT) {
        writeWithLength(context.format().getBytes(StandardCharsets.UTF_8), out);
      }
      if (hasState) {
        writeWithLength(context.traceState().getBytes(StandardCharsets.UTF_8), out);
      }
    }
  }

  /** A context's format index in an entry, or {@link #ENTRY_OTHER_FORMAT} (its name follows). */
  private static int entryFormat(TraceContext context) {
    int format = FORMATS.indexOf(context.format());
    return format < 0 || format >= ENTRY_OTHER_FORMAT ? ENTRY_OTHER_FORMAT : format;
  }

  private static int sizeWithLength(byte[] bytes) {
    return Varints.sizeOf(bytes.length) + bytes.length;
  }

  private static void writeWithLength(byte[] bytes, ByteBuffer out) {
    Varints.write(bytes.length, out);
    out.put(bytes);
  }

  /** A contribution from a contributor log entry: its source and time, and its encoded rest. */
  static Contribution decodeEntry(
      String topic, int partition, long offset, long timestamp, byte[] value) {
    return decodeEntry(topic, partition, offset, timestamp, value, 0, value.length);
  }

  /**
   * A contribution from a contributor log entry: its source and time, and its encoded rest at
   * {@code value[from, from + length)} (inside a page, see {@link ContributorLog}).
   */
  static Contribution decodeEntry(
      String topic,
      int partition,
      long offset,
      long timestamp,
      byte[] value,
      int from,
      int length) {
    try {
      ByteBuffer in = ByteBuffer.wrap(value, from, length);
      int flags = in.get() & 0xFF;
      if ((flags & ENTRY_LAYOUT) == 0) {
        throw new SerializationException(
            "contributor log entry in an unknown layout (flags " + flags + ")");
      }
      if ((flags & ENTRY_ARRIVAL_LAG) != 0) {
        Varints.readLong(in);
      }
      Bytes folded = (flags & 1) != 0 ? Bytes.wrap(readBytes(in)) : null;
      int count = (flags >>> 1) & ENTRY_MORE_CONTEXTS;
      if (count == ENTRY_MORE_CONTEXTS) {
        count = Varints.readInt(in);
      }
      if (count < 0 || count > in.remaining() / (ENTRY_CONTEXT_BYTES + 1)) {
        throw new SerializationException("corrupt contributor log entry: " + count + " contexts");
      }
      List<TraceContext> contexts = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        CompactSpanContext ids =
            new CompactSpanContext(in.getLong(), in.getLong(), in.getLong(), in.get());
        int format = in.get() & 0xFF;
        Sampling sampling = Sampling.values()[Math.min(format >>> 6, 2)];
        int index = format & ENTRY_OTHER_FORMAT;
        String name = index == ENTRY_OTHER_FORMAT ? readString(in) : FORMATS.get(index);
        String state = (format & ENTRY_HAS_STATE) != 0 ? readString(in) : "";
        contexts.add(new TraceContext(ids, state, name, sampling));
      }
      if (in.hasRemaining()) {
        throw new SerializationException(
            "corrupt contributor log entry: " + in.remaining() + " trailing bytes");
      }
      return new Contribution(topic, partition, offset, timestamp, contexts, folded);
    } catch (BufferUnderflowException | IllegalArgumentException | IndexOutOfBoundsException e) {
      throw new SerializationException(
          "corrupt contributor log entry (" + length + " bytes): " + e, e);
    }
  }

  /**
   * The arrival lag of the contributor log entry whose rest is at {@code value[from, from +
   * length)}: 0 when it has none.
   */
  static long arrivalLag(byte[] value, int from, int length) {
    try {
      ByteBuffer in = ByteBuffer.wrap(value, from, length);
      return (in.get() & ENTRY_ARRIVAL_LAG) == 0 ? 0 : Varints.readLong(in);
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      throw new SerializationException(
          "corrupt contributor log entry (" + length + " bytes): " + e, e);
    }
  }

  /**
   * Whether the contributor log entry whose rest starts at {@code value[from]} started a session at
   * the horizon ({@link SessionWindowRule}).
   */
  static boolean atHorizon(byte[] value, int from) {
    return (value[from] & ENTRY_AT_HORIZON) != 0;
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
