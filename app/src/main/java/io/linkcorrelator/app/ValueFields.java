package io.linkcorrelator.app;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.linkcorrelator.serdes.AvroSerde;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Reading the group field and the aggregate field of an input value, in the configured {@link
 * ValueFormat}. Paths are resolved once, at start; each record's value is decoded at most once.
 */
final class ValueFields {

  private static final String INVALID_VALUE = "invalid_value";
  private static final String INVALID_KEY = "invalid_key";

  private ValueFields() {}

  /**
   * The fields read from one record's value.
   *
   * @param groupKey the group field as text; null when not grouping by a field, or when it is
   *     missing or null
   * @param aggregate the aggregate field; null when not aggregating, or (Avro) when it is null or
   *     not a number
   */
  record Fields(String groupKey, Double aggregate) {
    static final Fields NONE = new Fields(null, null);
  }

  /** A value that cannot be read: the outcome it counts as and the reason for its dead letter. */
  static final class UnreadableValue extends RuntimeException {
    private final String outcome;

    /**
     * @param outcome {@code invalid_value} or {@code invalid_key}, as counted in {@code
     *     correlator.records}
     */
    UnreadableValue(String outcome, String reason) {
      super(reason, null, false, false);
      this.outcome = outcome;
    }

    String outcome() {
      return outcome;
    }
  }

  /** Reads the configured fields of a value. */
  interface Reader {
    /**
     * Decodes {@code value} once and reads the configured fields.
     *
     * @throws UnreadableValue with the reason when the value is not of the format, or a field
     *     cannot be read from it
     */
    Fields read(String topic, byte[] value);
  }

  /** The reader for {@code config}; it reads nothing (and parses nothing) for {@code none}. */
  static Reader reader(CorrelatorConfig config) {
    String group =
        config.groupBy().source() == GroupBy.Source.VALUE_FIELD ? config.groupBy().name() : null;
    return switch (config.valueFormat()) {
      case NONE -> (topic, value) -> Fields.NONE;
      case AVRO -> new AvroReader(config.valueSchema(), group, config.aggregateField());
      case JSON -> new JsonReader(group, config.aggregateField());
    };
  }

  /** Checks that the configured paths can be read in {@code config}'s format. */
  static void validate(CorrelatorConfig config) {
    reader(config);
  }

  // --- Avro -----------------------------------------------------------------------------------

  /** A path through nested Avro records, resolved to field positions once. */
  record AvroPath(String text, int[] positions) {

    /** The value at the path, or null when a record on the way is null. */
    Object read(GenericRecord record) {
      Object current = record;
      for (int position : positions) {
        if (!(current instanceof GenericRecord nested)) {
          return null;
        }
        current = nested.get(position);
      }
      return current;
    }
  }

  private static final class AvroReader implements Reader {
    private final AvroSerde<GenericRecord> values;
    private final AvroPath group;
    private final AvroPath aggregate;

    AvroReader(Schema schema, String group, String aggregate) {
      this.values = AvroSerde.generic(schema);
      this.group = group == null ? null : avroPath(schema, group, "correlator.group.by");
      this.aggregate =
          aggregate == null ? null : avroPath(schema, aggregate, "correlator.aggregate.field");
    }

    @Override
    public Fields read(String topic, byte[] value) {
      GenericRecord record;
      try {
        record = values.deserialize(topic, value);
      } catch (SerializationException e) {
        throw new UnreadableValue(INVALID_VALUE, e.getMessage());
      }
      Object key = group == null ? null : group.read(record);
      Object number = aggregate == null ? null : aggregate.read(record);
      return new Fields(
          GroupKeySources.ofField(key), number instanceof Number n ? n.doubleValue() : null);
    }
  }

  /**
   * Resolves {@code path} in {@code schema}.
   *
   * @throws IllegalArgumentException naming {@code key} when a field is missing or not a record on
   *     the way
   */
  static AvroPath avroPath(Schema schema, String path, String key) {
    List<String> names = List.of(path.split("\\."));
    int[] positions = new int[names.size()];
    Schema current = schema;
    for (int i = 0; i < names.size(); i++) {
      Schema record = recordOf(current);
      Schema.Field field = record == null ? null : record.getField(names.get(i));
      if (field == null) {
        throw new IllegalArgumentException(
            key
                + " "
                + path
                + ": "
                + (record == null ? "not a record before " : "no field ")
                + names.get(i)
                + " in "
                + schema.getFullName()
                + (record == null
                    ? ""
                    : "; fields are "
                        + record.getFields().stream().map(Schema.Field::name).toList()));
      }
      positions[i] = field.pos();
      current = field.schema();
    }
    return new AvroPath(path, positions);
  }

  private static Schema recordOf(Schema schema) {
    if (schema.getType() == Schema.Type.RECORD) {
      return schema;
    }
    if (schema.getType() == Schema.Type.UNION) {
      return schema.getTypes().stream()
          .filter(member -> member.getType() == Schema.Type.RECORD)
          .findFirst()
          .orElse(null);
    }
    return null;
  }

  // --- JSON -----------------------------------------------------------------------------------

  /** Rejects trailing content after the value: {@code {"a":1} x} is not one JSON value. */
  private static final ObjectReader JSON =
      JsonMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build()
          .readerFor(JsonNode.class);

  private static final class JsonReader implements Reader {
    private final String groupPath;
    private final JsonPointer group;
    private final String aggregatePath;
    private final JsonPointer aggregate;

    JsonReader(String group, String aggregate) {
      this.groupPath = group;
      this.group = group == null ? null : jsonPointer(group, "correlator.group.by");
      this.aggregatePath = aggregate;
      this.aggregate =
          aggregate == null ? null : jsonPointer(aggregate, "correlator.aggregate.field");
    }

    @Override
    public Fields read(String topic, byte[] value) {
      JsonNode root;
      try {
        root = JSON.readTree(value);
      } catch (JsonProcessingException e) {
        throw new UnreadableValue(INVALID_VALUE, "not JSON: " + e.getOriginalMessage());
      } catch (IOException e) {
        throw new UnreadableValue(INVALID_VALUE, "not JSON: " + e.getMessage());
      }
      if (root == null || root.isMissingNode()) {
        throw new UnreadableValue(INVALID_VALUE, "not JSON: empty value");
      }
      return new Fields(
          group == null ? null : groupKey(root.at(group)),
          aggregate == null ? null : number(root.at(aggregate)));
    }

    private String groupKey(JsonNode node) {
      if (node.isMissingNode() || node.isNull()) {
        return null;
      }
      if (node.isTextual()) {
        return node.textValue();
      }
      if (node.isBoolean()) {
        return node.asText();
      }
      if (node.isNumber()) {
        return numberKey(node);
      }
      throw new UnreadableValue(
          INVALID_KEY,
          "value field "
              + groupPath
              + " is "
              + (node.isArray() ? "an array" : "an object")
              + ", not a string, number or boolean");
    }

    private double number(JsonNode node) {
      if (node.isMissingNode()) {
        throw new UnreadableValue(INVALID_VALUE, "no field " + aggregatePath);
      }
      if (!node.isNumber()) {
        throw new UnreadableValue(
            INVALID_VALUE,
            "field "
                + aggregatePath
                + " is "
                + (node.isNull()
                    ? "null"
                    : node.getNodeType().name().toLowerCase(java.util.Locale.ROOT))
                + ", not a JSON number");
      }
      double number = node.doubleValue();
      if (!Double.isFinite(number)) {
        throw new UnreadableValue(
            INVALID_VALUE, "field " + aggregatePath + " is out of the range of a double");
      }
      return number;
    }
  }

  /**
   * A JSON number as a group key: equal numbers give the same key ({@code 1000}, {@code 1000.0} and
   * {@code 1e3} are all {@code 1000}; {@code 1.50} is {@code 1.5}). Integers keep every digit;
   * other numbers are read as a double, so their text is bounded.
   */
  private static String numberKey(JsonNode node) {
    if (node.isIntegralNumber()) {
      return node.bigIntegerValue().toString();
    }
    double value = node.doubleValue();
    if (!Double.isFinite(value)) {
      throw new UnreadableValue(
          INVALID_KEY, "value field is a number out of the range of a double");
    }
    BigDecimal decimal = BigDecimal.valueOf(value).stripTrailingZeros();
    return decimal.scale() < 0 ? decimal.toBigIntegerExact().toString() : decimal.toPlainString();
  }

  /**
   * A JSON Pointer ({@code /customer/id}, RFC 6901) as it is, or a dotted path ({@code
   * customer.id}) turned into one.
   *
   * @throws IllegalArgumentException naming {@code key} when the path is empty or has an empty
   *     segment
   */
  static JsonPointer jsonPointer(String path, String key) {
    if (path.startsWith("/")) {
      try {
        return JsonPointer.compile(path);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            key + " " + path + ": not a JSON Pointer: " + e.getMessage(), e);
      }
    }
    StringBuilder pointer = new StringBuilder();
    for (String segment : path.split("\\.", -1)) {
      if (segment.isEmpty()) {
        throw new IllegalArgumentException(
            key
                + " "
                + path
                + ": a dotted path needs a name between every two dots (e.g. customer.id), or"
                + " use a JSON Pointer (e.g. /customer/id)");
      }
      pointer.append('/').append(segment.replace("~", "~0").replace("/", "~1"));
    }
    return JsonPointer.compile(pointer.toString());
  }
}
