package io.linkcorrelator.app;

import static io.linkcorrelator.app.CorrelatorHarness.T0;
import static io.linkcorrelator.app.CorrelatorHarness.headers;
import static io.linkcorrelator.app.CorrelatorHarness.spanId;
import static io.linkcorrelator.app.CorrelatorHarness.traceId;
import static io.linkcorrelator.app.CorrelatorHarness.traced;
import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.schemas.Order;
import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.serdes.AvroSerde;
import io.linkcorrelator.streams.WindowSpec;
import io.linkcorrelator.streams.propagation.KafkaHeadersGetter;
import io.linkcorrelator.streams.propagation.TraceStates;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every contributor linked, within budgets, to the ORIGINAL message; results carry the span on. */
class LinkingTest {

  @TempDir Path stateDir;

  private static CorrelatorConfig.Builder tumbling() {
    return CorrelatorConfig.builder()
        .applicationId("linking")
        .inputTopics("events")
        .outputTopic("results")
        .window(WindowSpec.tumbling(Duration.ofMinutes(1), Duration.ofSeconds(5)));
  }

  @Test
  void linksTenThousandContributorsOfOneWindowAcrossChunksWithinBothBudgets() {
    int contributors = 10_000;
    try (CorrelatorHarness harness = new CorrelatorHarness(tumbling().build(), stateDir)) {
      for (int i = 0; i < contributors; i++) {
        harness.send("hot", T0 + i % 60_000, traced(i));
      }
      harness.send("other", T0 + 120_000, traced(contributors));

      WindowResult result = harness.results().get(0).value();
      List<SpanData> window =
          harness.spans().stream()
              .filter(span -> span.getTraceId().equals(result.getTraceId()))
              .toList();
      SpanData aggregate =
          window.stream()
              .filter(span -> !span.getParentSpanContext().isValid())
              .findFirst()
              .orElseThrow();
      List<SpanData> chunks =
          window.stream().filter(span -> span.getParentSpanContext().isValid()).toList();

      Set<String> linked = new HashSet<>();
      for (SpanData span : window) {
        assertThat(span.getTotalRecordedLinks())
            .as("no link dropped by span limits")
            .isEqualTo(span.getLinks().size());
        assertThat(span.getLinks()).hasSizeLessThanOrEqualTo(128);
        assertThat(DatadogLinksJson.of(span.getLinks()).getBytes(StandardCharsets.UTF_8).length)
            .as("Datadog _dd.span_links JSON of %s", span.getName())
            .isLessThanOrEqualTo(25_000);
        span.getLinks().forEach(link -> linked.add(link.getSpanContext().getSpanId()));
      }
      assertThat(linked).hasSize(contributors);
      for (int i = 0; i < contributors; i += 997) {
        assertThat(linked).contains(spanId(i));
      }
      assertThat(chunks)
          .isNotEmpty()
          .allSatisfy(
              chunk -> assertThat(chunk.getParentSpanId()).isEqualTo(aggregate.getSpanId()));
      assertThat(aggregate.getAttributes().get(AttributeKey.longKey("correlator.links.total")))
          .isEqualTo((long) contributors);
      assertThat(aggregate.getAttributes().get(AttributeKey.longKey("correlator.links.chunks")))
          .isEqualTo((long) chunks.size());
      assertThat(result.getMessageCount()).isEqualTo(contributors);
      assertThat(result.getLinkedCount()).isEqualTo(contributors);
      assertThat(harness.counter("correlator.links.emitted", null)).isEqualTo(contributors);
    }
  }

  @Test
  void theDatadogBudgetSplitsChunksBeforeTheLinkCountDoes() {
    // Long topic names make each link's JSON large: the JSON budget binds before 128 links.
    String topic = "a-rather-long-topic-name-as-some-teams-write-them-" + "x".repeat(60);
    CorrelatorConfig config =
        CorrelatorConfig.builder()
            .applicationId("budget")
            .inputTopics(topic)
            .outputTopic("results")
            .window(WindowSpec.tumbling(Duration.ofMinutes(1), Duration.ZERO))
            .build();
    try (CorrelatorHarness harness = new CorrelatorHarness(config, stateDir)) {
      for (int i = 0; i < 500; i++) {
        harness.send(topic, "k", "v".getBytes(StandardCharsets.UTF_8), T0 + i, traced(i));
      }
      harness.send(topic, "k", "v".getBytes(StandardCharsets.UTF_8), T0 + 60_000, traced(999));

      List<SpanData> spans = harness.spans();
      assertThat(spans.stream().mapToInt(span -> span.getLinks().size()).sum()).isEqualTo(500);
      for (SpanData span : spans) {
        int json = DatadogLinksJson.of(span.getLinks()).getBytes(StandardCharsets.UTF_8).length;
        assertThat(json).isLessThanOrEqualTo(25_000);
        assertThat(span.getLinks()).hasSizeLessThan(128);
      }
      assertThat(spans).hasSizeGreaterThan(500 / 128 + 1);
    }
  }

  @Test
  void unlinkedRecordsCountButNeverBreakTheTopology() {
    try (CorrelatorHarness harness = new CorrelatorHarness(tumbling().build(), stateDir)) {
      harness.send("k", T0 + 1, headers()); // no header at all
      harness.send("k", T0 + 2, headers("traceparent", "00-not-a-valid-context-01"));
      harness.send(
          "k",
          T0 + 3,
          headers("traceparent", "00-" + "0".repeat(32) + "-" + "0".repeat(16) + "-01"));
      harness.send(
          "k", T0 + 4, headers("traceparent", "00-" + traceId(1) + "-" + "0".repeat(16) + "-01"));
      Headers notUtf8 = headers();
      notUtf8.add("traceparent", new byte[] {(byte) 0xff, (byte) 0xfe, 0x00, (byte) 0xc3});
      harness.send("k", T0 + 5, notUtf8);
      harness.send("k", T0 + 6, traced(7));
      harness.send("k", T0 + 120_000, traced(8));

      WindowResult result = harness.results().get(0).value();
      assertThat(result.getMessageCount()).isEqualTo(6);
      assertThat(result.getLinkedCount()).isEqualTo(1);
      assertThat(result.getUnlinkedCount()).isEqualTo(5);
      assertThat(harness.aggregateSpans().get(0).getLinks())
          .singleElement()
          .satisfies(link -> assertThat(link.getSpanContext().getSpanId()).isEqualTo(spanId(7)));
      assertThat(harness.counter("correlator.records", "unlinked")).isEqualTo(5);
      assertThat(harness.counter("correlator.records", "linked")).isEqualTo(2);
    }
  }

  @Test
  void regroupingByAValueFieldLinksToTheOriginalTopicPartitionAndOffset() {
    AvroSerde<Order> orders = AvroSerde.of(Order.class);
    CorrelatorConfig config =
        tumbling()
            .inputTopics("orders", "returns")
            .groupBy(GroupBy.valueField("customerId"))
            .valueSchema(Order.SCHEMA$)
            .aggregateField("amount")
            .build();
    try (CorrelatorHarness harness = new CorrelatorHarness(config, stateDir)) {
      harness.send(
          "orders",
          "order-1",
          orders.serialize("orders", order("order-1", "alice", 10)),
          T0 + 1,
          traced(1));
      harness.send(
          "orders",
          "order-2",
          orders.serialize("orders", order("order-2", "bob", 5)),
          T0 + 2,
          traced(2));
      harness.send(
          "returns",
          "order-3",
          orders.serialize("returns", order("order-3", "alice", -4)),
          T0 + 3,
          traced(3));
      harness.send(
          "orders",
          "order-4",
          orders.serialize("orders", order("order-4", "alice", 30)),
          T0 + 4,
          traced(4));
      harness.send(
          "orders",
          "order-5",
          orders.serialize("orders", order("order-5", "zed", 1)),
          T0 + 120_000,
          traced(5));
      // "returns" has gone silent at T0 + 3: it holds alice's window until it is idle.
      harness.letSilentPartitionsGoIdle();

      List<TestRecord<String, WindowResult>> results = harness.results();
      WindowResult alice =
          results.stream().filter(r -> r.key().equals("alice")).findFirst().orElseThrow().value();
      assertThat(alice.getMessageCount()).isEqualTo(3);
      assertThat(alice.getSum()).isEqualTo(36.0);
      assertThat(alice.getMin()).isEqualTo(-4.0);
      assertThat(alice.getMax()).isEqualTo(30.0);
      assertThat(alice.getAggregateField()).isEqualTo("amount");

      SpanData span =
          harness.spans().stream()
              .filter(s -> s.getTraceId().equals(alice.getTraceId()))
              .findFirst()
              .orElseThrow();
      assertThat(span.getLinks())
          .extracting(LinkingTest::describe)
          .containsExactly(
              spanId(1) + " orders/0@0", spanId(3) + " returns/0@0", spanId(4) + " orders/0@2");
    }
  }

  private static List<TestRecord<byte[], byte[]>> deadLetters(CorrelatorHarness harness) {
    return harness
        .driver
        .createOutputTopic(
            CorrelatorHarness.DEAD_LETTERS,
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())
        .readRecordsToList();
  }

  private static String reason(TestRecord<byte[], byte[]> deadLetter) {
    return new String(
        deadLetter.headers().lastHeader("__streams.errors.message").value(),
        StandardCharsets.UTF_8);
  }

  private static String describe(LinkData link) {
    return link.getSpanContext().getSpanId()
        + " "
        + link.getAttributes().get(AttributeKey.stringKey("messaging.destination.name"))
        + "/"
        + link.getAttributes().get(AttributeKey.stringKey("messaging.destination.partition.id"))
        + "@"
        + link.getAttributes().get(AttributeKey.longKey("messaging.kafka.offset"));
  }

  private static Order order(String id, String customer, double amount) {
    return Order.newBuilder().setOrderId(id).setCustomerId(customer).setAmount(amount).build();
  }

  @Test
  void groupingByAHeaderSkipsAndCountsRecordsWithoutIt() {
    try (CorrelatorHarness harness =
        new CorrelatorHarness(tumbling().groupBy(GroupBy.header("tenant")).build(), stateDir)) {
      Headers acme = traced(1);
      acme.add("Tenant", "acme".getBytes(StandardCharsets.UTF_8));
      harness.send("ignored-key", T0 + 1, acme);
      harness.send("ignored-key", T0 + 2, traced(2)); // no tenant header
      harness.send(null, T0 + 3, traced(3)); // a null record key does not matter here
      Headers late = traced(4);
      late.add("tenant", "zed".getBytes(StandardCharsets.UTF_8));
      harness.send("x", T0 + 120_000, late);
      harness.letSilentPartitionsGoIdle(); // regrouped: a first start waits for every partition

      assertThat(harness.results()).extracting(TestRecord::key).containsExactly("acme");
      assertThat(harness.counter("correlator.records", "invalid_key")).isEqualTo(2);
    }
  }

  @Test
  void recordsWithoutAGroupKeyOrWithAnUndecodableValueGoToTheDeadLetterTopicAndTheStreamGoesOn() {
    CorrelatorConfig config =
        tumbling().valueSchema(Order.SCHEMA$).aggregateField("amount").build();
    try (CorrelatorHarness harness = new CorrelatorHarness(config, stateDir)) {
      byte[] good = AvroSerde.of(Order.class).serialize("events", order("o", "c", 1));
      harness.send("events", null, good, T0 + 1, traced(1));
      harness.send("events", "k", new byte[] {1, 2, 3}, T0 + 2, traced(2));
      harness.send("events", "k", null, T0 + 3, traced(3));
      harness.send("events", "k", good, T0 + 4, traced(4));
      harness.send("events", "k", good, T0 + 120_000, traced(5));

      assertThat(harness.results())
          .singleElement()
          .satisfies(r -> assertThat(r.value().getMessageCount()).isEqualTo(1));
      assertThat(harness.counter("correlator.records", "invalid_key")).isEqualTo(1);
      assertThat(harness.counter("correlator.records", "invalid_value")).isEqualTo(1);
      assertThat(harness.counter("correlator.records", "tombstone")).isEqualTo(1);
      List<TestRecord<byte[], byte[]>> deadLetters = deadLetters(harness);
      assertThat(deadLetters)
          .extracting(LinkingTest::reason)
          .satisfiesExactly(
              reason ->
                  assertThat(reason).startsWith("invalid_key: no group key (null record key)"),
              reason ->
                  assertThat(reason)
                      .startsWith("invalid_value: cannot deserialize Order from topic events"),
              reason -> assertThat(reason).isEqualTo("tombstone: null value (tombstone)"));
      assertThat(deadLetters.get(1).value()).as("the original bytes").containsExactly(1, 2, 3);
      assertThat(deadLetters.get(1).headers().lastHeader("traceparent").value())
          .as("the original headers")
          .isEqualTo(CorrelatorHarness.traceparent(2).getBytes(StandardCharsets.UTF_8));
      assertThat(
              new String(
                  deadLetters.get(1).headers().lastHeader("__streams.errors.offset").value(),
                  StandardCharsets.UTF_8))
          .isEqualTo("1");
    }
  }

  @Test
  void lateRecordsAfterGraceDoNotChangeAnEmittedResult() {
    try (CorrelatorHarness harness = new CorrelatorHarness(tumbling().build(), stateDir)) {
      harness.send("k", T0 + 1, traced(1));
      harness.send("k", T0 + 65_000, traced(2)); // closes [T0, T0+60s): 60 + 5 s grace
      List<TestRecord<String, WindowResult>> emitted = harness.results();
      assertThat(emitted).hasSize(1);
      int spansBefore = harness.spans().size();

      harness.send("k", T0 + 2, traced(3)); // late for the closed window
      harness.send("k", T0 + 500_000, traced(4));

      List<TestRecord<String, WindowResult>> after = harness.results();
      assertThat(after)
          .extracting(r -> r.value().getWindowStart().toEpochMilli())
          .doesNotContain(T0);
      assertThat(harness.spans().subList(spansBefore, harness.spans().size()))
          .noneMatch(span -> span.getTraceId().equals(emitted.get(0).value().getTraceId()));
      assertThat(harness.counter("correlator.records", "late")).isEqualTo(1);
      assertThat(deadLetters(harness))
          .singleElement()
          .satisfies(
              late -> {
                assertThat(reason(late)).startsWith("late: events-0@2 has event time " + (T0 + 2));
                assertThat(late.headers().lastHeader("traceparent").value())
                    .isEqualTo(CorrelatorHarness.traceparent(3).getBytes(StandardCharsets.UTF_8));
              });
    }
  }

  @Test
  void aFarFutureTimestampIsRejectedSoItCannotCloseEveryWindowEarly() {
    try (CorrelatorHarness harness = new CorrelatorHarness(tumbling().build(), stateDir)) {
      long now = System.currentTimeMillis();
      harness.send("k", now, traced(1));
      harness.send("k", now + Duration.ofDays(30).toMillis(), traced(2));
      harness.send("k", now + 1_000, traced(3));

      assertThat(harness.results()).as("the window of now is still open").isEmpty();
      assertThat(harness.counter("correlator.records", "invalid_timestamp")).isEqualTo(1);
      assertThat(harness.counter("correlator.records", "linked")).isEqualTo(2);
      assertThat(deadLetters(harness))
          .singleElement()
          .satisfies(r -> assertThat(reason(r)).contains("ahead of the wall clock"));
    }
  }

  @Test
  void theOutputHeadersCarryTheAggregateSpanSoADownstreamSpanBecomesItsChild() {
    try (CorrelatorHarness harness = new CorrelatorHarness(tumbling().build(), stateDir)) {
      harness.send("k", T0 + 1, traced(1));
      harness.send("k", T0 + 120_000, traced(2));

      TestRecord<String, WindowResult> record = harness.results().get(0);
      SpanContext extracted =
          Span.fromContext(
                  W3CTraceContextPropagator.getInstance()
                      .extract(Context.root(), record.headers(), KafkaHeadersGetter.INSTANCE))
              .getSpanContext();
      SpanData aggregate = harness.aggregateSpans().get(0);

      assertThat(extracted.isValid()).isTrue();
      assertThat(extracted.getTraceId())
          .isEqualTo(aggregate.getTraceId())
          .isEqualTo(record.value().getTraceId());
      assertThat(extracted.getSpanId())
          .isEqualTo(aggregate.getSpanId())
          .isEqualTo(record.value().getSpanId());
      Span downstream =
          harness
              .openTelemetry
              .getTracer("downstream")
              .spanBuilder("consume results")
              .setParent(Context.root().with(Span.wrap(extracted)))
              .startSpan();
      downstream.end();
      SpanData child = harness.spans().get(harness.spans().size() - 1);
      assertThat(child.getParentSpanId()).isEqualTo(aggregate.getSpanId());
      assertThat(child.getTraceId()).isEqualTo(aggregate.getTraceId());
    }
  }

  @Test
  void theTraceStateOfAContributorTravelsOnItsLink() {
    try (CorrelatorHarness harness = new CorrelatorHarness(tumbling().build(), stateDir)) {
      Headers headers = traced(1);
      headers.add("tracestate", "dd=s:1;o:rum,congo=t61rcWkgMzE".getBytes(StandardCharsets.UTF_8));
      harness.send("k", T0 + 1, headers);
      harness.send("k", T0 + 120_000, traced(2));

      LinkData link = harness.aggregateSpans().get(0).getLinks().get(0);
      assertThat(link.getSpanContext().getTraceState().asMap())
          .containsExactly(
              java.util.Map.entry("dd", "s:1;o:rum"), java.util.Map.entry("congo", "t61rcWkgMzE"));
      assertThat(TraceStates.encode(link.getSpanContext().getTraceState()))
          .isEqualTo("dd=s:1;o:rum,congo=t61rcWkgMzE");
      assertThat(link.getSpanContext().isSampled()).isTrue();
    }
  }

  @Test
  void replayingTheSameInputGivesIdenticalIdsAndOutput(@TempDir Path secondStateDir) {
    Replay first = replay(stateDir);
    Replay second = replay(secondStateDir);

    assertThat(second.spanIds()).isEqualTo(first.spanIds()).hasSizeGreaterThan(3);
    assertThat(second.output()).isEqualTo(first.output()).hasSize(3);
  }

  private record Replay(List<String> spanIds, List<String> output) {}

  private static Replay replay(Path dir) {
    try (CorrelatorHarness harness =
        new CorrelatorHarness(tumbling().maxLinksPerSpan(50).build(), dir)) {
      for (int i = 0; i < 300; i++) {
        harness.send("key-" + (i % 3), T0 + i * 100, traced(i));
      }
      harness.send("end", T0 + 600_000, traced(1_000));
      List<String> output =
          harness.results().stream()
              .map(
                  r ->
                      r.key()
                          + " "
                          + r.value()
                          + " "
                          + new String(
                              r.headers().lastHeader("traceparent").value(),
                              StandardCharsets.UTF_8))
              .toList();
      List<String> spanIds =
          harness.spans().stream()
              .map(s -> s.getTraceId() + "/" + s.getSpanId() + "/" + s.getParentSpanId())
              .sorted()
              .collect(Collectors.toList());
      return new Replay(spanIds, output);
    }
  }
}
