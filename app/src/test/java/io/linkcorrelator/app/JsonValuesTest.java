package io.linkcorrelator.app;

import static io.linkcorrelator.app.CorrelatorHarness.T0;
import static io.linkcorrelator.app.CorrelatorHarness.traced;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.linkcorrelator.schemas.Order;
import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.streams.WindowSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code correlator.value.format=json}: group by and aggregate JSON fields; bad JSON dead-lettered.
 */
class JsonValuesTest {

  @TempDir Path stateDir;

  private static CorrelatorConfig.Builder json(String groupField, String aggregateField) {
    return CorrelatorConfig.builder()
        .applicationId("json")
        .inputTopics("events")
        .outputTopic("results")
        .window(WindowSpec.tumbling(Duration.ofMinutes(1), Duration.ofSeconds(5)))
        .valueFormat(ValueFormat.JSON)
        .groupBy(GroupBy.valueField(groupField))
        .aggregateField(aggregateField);
  }

  private static void send(CorrelatorHarness harness, long time, int span, String json) {
    harness.send("events", "k", json.getBytes(StandardCharsets.UTF_8), time, traced(span));
  }

  private static List<String> deadLetterReasons(CorrelatorHarness harness) {
    return harness
        .driver
        .createOutputTopic(
            CorrelatorHarness.DEAD_LETTERS,
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())
        .readRecordsToList()
        .stream()
        .map(
            r ->
                new String(
                    r.headers().lastHeader("__streams.errors.message").value(),
                    StandardCharsets.UTF_8))
        .toList();
  }

  @Test
  void groupsByADottedPathAndAggregatesAJsonNumber() {
    try (CorrelatorHarness harness =
        new CorrelatorHarness(json("customer.id", "amount").build(), stateDir)) {
      send(harness, T0 + 1, 1, "{\"customer\":{\"id\":\"alice\"},\"amount\":10}");
      send(harness, T0 + 2, 2, "{\"customer\":{\"id\":\"bob\"},\"amount\":2.5}");
      send(harness, T0 + 3, 3, "{\"amount\":-4e0,\"customer\":{\"id\":\"alice\"},\"x\":[1]}");
      send(harness, T0 + 120_000, 4, "{\"customer\":{\"id\":\"later\"},\"amount\":0}");
      harness.letSilentPartitionsGoIdle(); // regrouped: a first start waits for every partition

      Map<String, WindowResult> results =
          harness.results().stream().collect(Collectors.toMap(TestRecord::key, TestRecord::value));
      assertThat(results).containsOnlyKeys("alice", "bob");
      assertThat(results.get("alice").getMessageCount()).isEqualTo(2);
      assertThat(results.get("alice").getSum()).isEqualTo(6.0);
      assertThat(results.get("alice").getMin()).isEqualTo(-4.0);
      assertThat(results.get("alice").getMax()).isEqualTo(10.0);
      assertThat(results.get("bob").getSum()).isEqualTo(2.5);
      assertThat(results.get("alice").getLinkedCount()).isEqualTo(2);
    }
  }

  @Test
  void aJsonPointerAddressesNamesWithDotsAndEqualNumbersAreOneGroup() {
    try (CorrelatorHarness harness =
        new CorrelatorHarness(json("/shop.region/code", "/amount").build(), stateDir)) {
      send(harness, T0 + 1, 1, "{\"shop.region\":{\"code\":1000},\"amount\":1}");
      send(harness, T0 + 2, 2, "{\"shop.region\":{\"code\":1e3},\"amount\":1}");
      send(harness, T0 + 3, 3, "{\"shop.region\":{\"code\":1000.0},\"amount\":1}");
      send(harness, T0 + 4, 4, "{\"shop.region\":{\"code\":1.50},\"amount\":1}");
      send(harness, T0 + 5, 5, "{\"shop.region\":{\"code\":true},\"amount\":1}");
      send(harness, T0 + 120_000, 6, "{\"shop.region\":{\"code\":\"z\"},\"amount\":1}");
      harness.letSilentPartitionsGoIdle(); // regrouped: a first start waits for every partition

      assertThat(
              harness.results().stream()
                  .collect(Collectors.toMap(TestRecord::key, r -> r.value().getMessageCount())))
          .containsExactlyInAnyOrderEntriesOf(Map.of("1000", 3L, "1.5", 1L, "true", 1L));
    }
  }

  @Test
  void aValueThatIsNotJsonOrLacksAFieldGoesToTheDeadLetterTopicWithTheReason() {
    try (CorrelatorHarness harness =
        new CorrelatorHarness(json("customer", "amount").build(), stateDir)) {
      send(harness, T0 + 1, 1, "{\"customer\":\"alice\",\"amount\":1}");
      send(harness, T0 + 2, 2, "{\"customer\":\"alice\",\"amount\":");
      send(harness, T0 + 3, 3, "{\"customer\":\"alice\",\"amount\":1} {}");
      send(harness, T0 + 4, 4, "");
      send(harness, T0 + 5, 5, "{\"amount\":1}");
      send(harness, T0 + 6, 6, "{\"customer\":null,\"amount\":1}");
      send(harness, T0 + 7, 7, "{\"customer\":{\"id\":1},\"amount\":1}");
      send(harness, T0 + 8, 8, "{\"customer\":\"alice\"}");
      send(harness, T0 + 9, 9, "{\"customer\":\"alice\",\"amount\":\"12.50\"}");
      send(harness, T0 + 10, 10, "{\"customer\":\"alice\",\"amount\":1e999}");
      send(harness, T0 + 120_000, 11, "{\"customer\":\"later\",\"amount\":1}");
      harness.letSilentPartitionsGoIdle(); // regrouped: a first start waits for every partition

      assertThat(harness.results())
          .singleElement()
          .satisfies(r -> assertThat(r.value().getMessageCount()).isEqualTo(1));
      assertThat(deadLetterReasons(harness))
          .satisfiesExactly(
              reason -> assertThat(reason).startsWith("invalid_value: not JSON: Unexpected end"),
              reason -> assertThat(reason).startsWith("invalid_value: not JSON: Trailing token"),
              reason -> assertThat(reason).isEqualTo("invalid_value: not JSON: empty value"),
              reason ->
                  assertThat(reason)
                      .isEqualTo(
                          "invalid_key: no group key (value field customer missing or null)"),
              reason ->
                  assertThat(reason)
                      .isEqualTo(
                          "invalid_key: no group key (value field customer missing or null)"),
              reason ->
                  assertThat(reason)
                      .isEqualTo(
                          "invalid_key: value field customer is an object, not a string, number or"
                              + " boolean"),
              reason -> assertThat(reason).isEqualTo("invalid_value: no field amount"),
              reason ->
                  assertThat(reason)
                      .isEqualTo("invalid_value: field amount is string, not a JSON number"),
              reason ->
                  assertThat(reason)
                      .isEqualTo("invalid_value: field amount is out of the range of a double"));
      assertThat(harness.counter("correlator.records", "invalid_value")).isEqualTo(6);
      assertThat(harness.counter("correlator.records", "invalid_key")).isEqualTo(3);
    }
  }

  @Test
  void withoutAFieldValuesAreOpaqueAndNeverParsed() {
    CorrelatorConfig config =
        json("customer", null).valueFormat(ValueFormat.NONE).groupBy(GroupBy.recordKey()).build();
    assertThat(config.valueFormat()).isEqualTo(ValueFormat.NONE);
    try (CorrelatorHarness harness = new CorrelatorHarness(config, stateDir)) {
      send(harness, T0 + 1, 1, "not json at all");
      send(harness, T0 + 120_000, 2, "{");
      harness.letSilentPartitionsGoIdle(); // regrouped: a first start waits for every partition

      assertThat(harness.results())
          .singleElement()
          .satisfies(r -> assertThat(r.value().getMessageCount()).isEqualTo(1));
      assertThat(deadLetterReasons(harness)).isEmpty();
    }
  }

  @Test
  void theFormatDefaultsToAvroWithASchemaAndToNoneWithout() {
    CorrelatorConfig.Builder base = json("customer", null).valueFormat(null);
    assertThat(base.groupBy(GroupBy.recordKey()).build().valueFormat()).isEqualTo(ValueFormat.NONE);
    assertThat(base.valueSchema(Order.SCHEMA$).build().valueFormat()).isEqualTo(ValueFormat.AVRO);
  }

  @Test
  void configurationErrorsNameTheKey() {
    assertThatThrownBy(() -> json("customer..id", null).build())
        .hasMessageContaining("correlator.group.by customer..id: a dotted path needs a name");
    assertThatThrownBy(() -> json("customer", "amount.").build())
        .hasMessageContaining("correlator.aggregate.field amount.: a dotted path needs a name");
    assertThatThrownBy(() -> json("customer", null).valueFormat(ValueFormat.AVRO).build())
        .hasMessageContaining(
            "correlator.value.schema is required when correlator.value.format is avro");
    assertThatThrownBy(() -> json("customer", null).valueSchema(Order.SCHEMA$).build())
        .hasMessageContaining("correlator.value.schema is set but correlator.value.format is json");
    assertThatThrownBy(() -> json("customer", null).valueFormat(ValueFormat.NONE).build())
        .hasMessageContaining("correlator.value.format must be json or avro");
    assertThatThrownBy(() -> json("customer", null).valueFormat(null).build())
        .hasMessageContaining("correlator.value.format must be json or avro");
    assertThatThrownBy(() -> ValueFormat.parse("xml"))
        .hasMessage("correlator.value.format must be one of avro, json, none; got 'xml'");
  }
}
