package io.linkcorrelator.topology;

import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;

/** Reading a field of an Avro value by a dotted path, checked against the schema up front. */
final class ValueFields {

  private ValueFields() {}

  /** A path through nested records, resolved to field positions once. */
  record Path(String text, int[] positions) {

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

  /**
   * Resolves {@code path} in {@code schema}.
   *
   * @throws IllegalArgumentException naming {@code key} when a field is missing or not a record on
   *     the way
   */
  static Path path(Schema schema, String path, String key) {
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
    return new Path(path, positions);
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
}
