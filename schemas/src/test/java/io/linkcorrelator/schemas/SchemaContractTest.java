package io.linkcorrelator.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/** The .avsc files are the wire contract: every type and field documents itself. */
class SchemaContractTest {

  private static final List<Schema> CONTRACT =
      List.of(WindowResult.SCHEMA$, MessageRef.SCHEMA$, Order.SCHEMA$);

  @Test
  void everyRecordEnumFixedAndFieldHasADoc() {
    List<String> undocumented = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    CONTRACT.forEach(schema -> collectUndocumented(schema, seen, undocumented));
    assertThat(seen)
        .contains("io.linkcorrelator.schemas.WindowType", "io.linkcorrelator.schemas.TraceId");
    assertThat(undocumented).isEmpty();
  }

  @Test
  void fieldsAFutureReaderMayMissHaveDefaults() {
    assertThat(WindowResult.SCHEMA$.getField("windowType").hasDefaultValue()).isTrue();
    assertThat(WindowType.SCHEMA$.getEnumDefault()).isEqualTo("UNKNOWN");
    assertThat(Order.SCHEMA$.getField("channel").defaultVal()).isEqualTo("web");
    assertThat(MessageRef.SCHEMA$.getField("traceState").defaultVal()).isEqualTo("");
  }

  @Test
  void theJarShipsTheAvscFiles() {
    for (String name : List.of("WindowResult", "MessageRef", "Order", "WindowType")) {
      assertThat(getClass().getClassLoader().getResource("avro/" + name + ".avsc"))
          .as(name)
          .isNotNull();
    }
  }

  private static void collectUndocumented(Schema schema, Set<String> seen, List<String> out) {
    switch (schema.getType()) {
      case RECORD -> {
        if (!seen.add(schema.getFullName())) {
          return;
        }
        requireDoc(schema.getFullName(), schema.getDoc(), out);
        for (Schema.Field field : schema.getFields()) {
          requireDoc(schema.getFullName() + "." + field.name(), field.doc(), out);
          collectUndocumented(field.schema(), seen, out);
        }
      }
      case ENUM, FIXED -> {
        if (seen.add(schema.getFullName())) {
          requireDoc(schema.getFullName(), schema.getDoc(), out);
        }
      }
      case UNION -> schema.getTypes().forEach(member -> collectUndocumented(member, seen, out));
      default -> {}
    }
  }

  private static void requireDoc(String name, String doc, List<String> out) {
    if (doc == null || doc.isBlank()) {
      out.add(name);
    }
  }
}
