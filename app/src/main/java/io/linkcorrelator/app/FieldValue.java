package io.linkcorrelator.app;

import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * What the application keeps of one input record's value for its window summary: the configured
 * numeric field, or {@link #NONE}. Its {@link #SERDE} is the value serde of the application's
 * linked aggregation, so it is what the contributor log holds per record: nothing when counting
 * only (a value of zero bytes is not kept), 8 bytes with a numeric field. The event time and
 * whether the record is linked are not kept here: the library knows them per record ({@code
 * Contributor}).
 *
 * @param value the aggregate field, null when there is none
 */
record FieldValue(Double value) {

  /** No numeric field: counting only, or the record lacks the field. Zero bytes. */
  static final FieldValue NONE = new FieldValue(null);

  /** Nothing for {@link #NONE}, else the value as an 8-byte double. */
  static final Serde<FieldValue> SERDE =
      Serdes.serdeFrom(new FieldValueSerializer(), new FieldValueDeserializer());

  private static final byte[] NO_BYTES = new byte[0];

  static FieldValue of(Double value) {
    return value == null ? NONE : new FieldValue(value);
  }

  private static final class FieldValueSerializer implements Serializer<FieldValue> {
    @Override
    public byte[] serialize(String topic, FieldValue field) {
      if (field == null) {
        return null;
      }
      return field.value() == null
          ? NO_BYTES
          : ByteBuffer.allocate(Double.BYTES).putDouble(field.value()).array();
    }
  }

  private static final class FieldValueDeserializer implements Deserializer<FieldValue> {
    @Override
    public FieldValue deserialize(String topic, byte[] data) {
      if (data == null) {
        return null;
      }
      return switch (data.length) {
        case 0 -> NONE;
        case Double.BYTES -> new FieldValue(ByteBuffer.wrap(data).getDouble());
        default ->
            throw new SerializationException(
                "not a field value: " + data.length + " bytes, expected 0 or 8");
      };
    }
  }
}
