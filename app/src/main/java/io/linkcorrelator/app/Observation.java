package io.linkcorrelator.app;

import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * What the application keeps of one input record for its window summary: the record's event time,
 * whether it carries a trace context, and the configured numeric field. Its {@link #SERDE} is the
 * value serde of the application's linked aggregation, so it is what the contributor log holds per
 * record (9 or 17 bytes).
 *
 * @param eventTime the record's timestamp
 * @param linked whether the record carries a valid trace context in a configured format
 * @param value the aggregate field, null when there is none
 */
record Observation(long eventTime, boolean linked, Double value) {

  private static final byte LINKED = 1;
  private static final byte HAS_VALUE = 2;

  /** Time (8 bytes), flags (1 byte), then the value as an 8-byte double when there is one. */
  static final Serde<Observation> SERDE =
      Serdes.serdeFrom(new ObservationSerializer(), new ObservationDeserializer());

  private static final class ObservationSerializer implements Serializer<Observation> {
    @Override
    public byte[] serialize(String topic, Observation observation) {
      if (observation == null) {
        return null;
      }
      ByteBuffer bytes =
          ByteBuffer.allocate(Long.BYTES + 1 + (observation.value() == null ? 0 : Double.BYTES));
      bytes.putLong(observation.eventTime());
      bytes.put(
          (byte)
              ((observation.linked() ? LINKED : 0)
                  | (observation.value() == null ? 0 : HAS_VALUE)));
      if (observation.value() != null) {
        bytes.putDouble(observation.value());
      }
      return bytes.array();
    }
  }

  private static final class ObservationDeserializer implements Deserializer<Observation> {
    @Override
    public Observation deserialize(String topic, byte[] data) {
      if (data == null) {
        return null;
      }
      if (data.length != Long.BYTES + 1 && data.length != Long.BYTES + 1 + Double.BYTES) {
        throw new SerializationException(
            "not an observation: " + data.length + " bytes, expected 9 or 17");
      }
      ByteBuffer bytes = ByteBuffer.wrap(data);
      long eventTime = bytes.getLong();
      byte flags = bytes.get();
      Double value = (flags & HAS_VALUE) != 0 ? bytes.getDouble() : null;
      return new Observation(eventTime, (flags & LINKED) != 0, value);
    }
  }
}
