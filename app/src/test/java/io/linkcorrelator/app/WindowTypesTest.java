package io.linkcorrelator.app;

import static io.linkcorrelator.app.CorrelatorHarness.T0;
import static io.linkcorrelator.app.CorrelatorHarness.spanId;
import static io.linkcorrelator.app.CorrelatorHarness.traced;
import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.schemas.WindowType;
import io.linkcorrelator.streams.WindowSpec;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every window type puts the right records in the right windows and emits one result and one
 * aggregate span per (key, window), only once stream time passes the window's end plus grace.
 */
class WindowTypesTest {

  @TempDir Path stateDir;

  private static long s(long seconds) {
    return T0 + seconds * 1000;
  }

  private static CorrelatorConfig config(WindowSpec window) {
    return CorrelatorConfig.builder()
        .applicationId("window-types")
        .inputTopics("events")
        .outputTopic("results")
        .window(window)
        .build();
  }

  /**
   * Each result as "key [start,end) -> [producer span numbers]", from the links of its aggregate
   * span (and chunks), keyed for stable comparison.
   */
  private static Map<String, List<Integer>> windows(
      CorrelatorHarness harness, List<TestRecord<String, WindowResult>> results) {
    Map<String, List<Integer>> windows = new TreeMap<>();
    for (TestRecord<String, WindowResult> record : results) {
      WindowResult result = record.value();
      List<Integer> linked =
          harness.spans().stream()
              .filter(span -> span.getTraceId().equals(result.getTraceId()))
              .flatMap(span -> span.getLinks().stream())
              .map(LinkData::getSpanContext)
              .map(context -> (int) (Long.parseLong(context.getSpanId(), 16) - 0x2000_0000L))
              .sorted()
              .toList();
      assertThat(result.getMessageCount()).isEqualTo(linked.size());
      String window =
          record.key()
              + " ["
              + (result.getWindowStart().toEpochMilli() - T0) / 1000.0
              + ","
              + (result.getWindowEnd().toEpochMilli() - T0) / 1000.0
              + ")";
      assertThat(windows.put(window, linked)).as("one result per window: " + window).isNull();
    }
    return windows;
  }

  @Test
  void tumblingWindowsCloseAfterEndPlusGraceWithTheirRecords() {
    try (CorrelatorHarness harness =
        new CorrelatorHarness(
            config(WindowSpec.tumbling(Duration.ofSeconds(10), Duration.ofSeconds(2))), stateDir)) {
      harness.send("A", s(1), traced(1));
      harness.send("B", s(3), traced(2));
      harness.send("A", s(9), traced(3));
      harness.send("A", s(11), traced(4)); // next window; stream time 11 < 10 + 2
      assertThat(harness.results()).as("still within grace").isEmpty();

      harness.send("B", s(12), traced(5)); // stream time 12 = end + grace: [0,10) closes

      List<TestRecord<String, WindowResult>> first = harness.results();
      assertThat(windows(harness, first))
          .containsExactly(
              Map.entry("A [0.0,10.0)", List.of(1, 3)), Map.entry("B [0.0,10.0)", List.of(2)));
      assertThat(first)
          .allSatisfy(r -> assertThat(r.value().getWindowType()).isEqualTo(WindowType.TUMBLING));
      assertThat(harness.aggregateSpans()).hasSize(2);

      harness.send("C", s(100), traced(6));
      assertThat(windows(harness, harness.results()))
          .containsExactly(
              Map.entry("A [10.0,20.0)", List.of(4)), Map.entry("B [10.0,20.0)", List.of(5)));
      assertThat(harness.aggregateSpans()).as("one span per window, never again").hasSize(4);
    }
  }

  @Test
  void hoppingWindowsTakeARecordInEveryWindowThatHoldsIt() {
    try (CorrelatorHarness harness =
        new CorrelatorHarness(
            config(
                WindowSpec.hopping(Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ZERO)),
            stateDir)) {
      harness.send("A", s(1), traced(1));
      harness.send("A", s(6), traced(2));
      harness.send("A", s(11), traced(3));
      harness.send("Z", s(100), traced(9));

      assertThat(windows(harness, harness.results()))
          .containsExactly(
              Map.entry("A [-5.0,5.0)", List.of(1)),
              Map.entry("A [0.0,10.0)", List.of(1, 2)),
              Map.entry("A [10.0,20.0)", List.of(3)),
              Map.entry("A [5.0,15.0)", List.of(2, 3)));
    }
  }

  @Test
  void slidingWindowsFollowKafkaStreamsSemantics() {
    try (CorrelatorHarness harness =
        new CorrelatorHarness(
            config(WindowSpec.sliding(Duration.ofSeconds(5), Duration.ZERO)), stateDir)) {
      harness.send("A", s(10), traced(1));
      harness.send("A", s(12), traced(2));
      harness.send("A", s(20), traced(3));
      harness.send("Z", s(100), traced(9));

      // Left windows [t-5, t] of each record, plus the right window [10.001, 15.001] of the record
      // at 10, which holds the one at 12. No right window for 12 (nothing in (12, 17]). Ends are
      // exclusive: the last included millisecond plus one.
      assertThat(windows(harness, harness.results()))
          .containsExactly(
              Map.entry("A [10.001,15.002)", List.of(2)),
              Map.entry("A [15.0,20.001)", List.of(3)),
              Map.entry("A [5.0,10.001)", List.of(1)),
              Map.entry("A [7.0,12.001)", List.of(1, 2)));
    }
  }

  @Test
  void sessionWindowsSplitOnTheGapAndMergeWhenARecordBridgesTwo() {
    try (CorrelatorHarness harness =
        new CorrelatorHarness(
            config(WindowSpec.session(Duration.ofSeconds(5), Duration.ofSeconds(10))), stateDir)) {
      harness.send("A", s(10), traced(1));
      harness.send("B", s(11), traced(2));
      harness.send("A", s(13), traced(3));
      harness.send("A", s(30), traced(4));
      harness.send("A", s(50), traced(5));
      harness.send("A", s(60), traced(6));
      // Within 5 s of both, and the session at 50 is still open (grace): one session [50, 60].
      harness.send("A", s(55), traced(7));
      harness.send("Z", s(200), traced(9));

      assertThat(windows(harness, harness.results()))
          .containsExactly(
              Map.entry("A [10.0,13.001)", List.of(1, 3)),
              Map.entry("A [30.0,30.001)", List.of(4)),
              Map.entry("A [50.0,60.001)", List.of(5, 6, 7)),
              Map.entry("B [11.0,11.001)", List.of(2)));
    }
  }

  @Test
  void aSessionClosesOnlyAfterItsGapAndGracePass() {
    try (CorrelatorHarness harness =
        new CorrelatorHarness(
            config(WindowSpec.session(Duration.ofSeconds(5), Duration.ofSeconds(1))), stateDir)) {
      harness.send("A", s(10), traced(1));
      harness.send("B", s(16), traced(2)); // 10 + 5 + 1 = 16: A's session is due at 16.001
      assertThat(harness.results()).isEmpty();
      harness.send("B", s(17), traced(3));
      assertThat(windows(harness, harness.results())).containsOnlyKeys("A [10.0,10.001)");
    }
  }

  @Test
  void everyEmittedSpanIsAConsumerSpanWithTheWindowAttributes() {
    try (CorrelatorHarness harness =
        new CorrelatorHarness(
            config(WindowSpec.tumbling(Duration.ofSeconds(10), Duration.ZERO)), stateDir)) {
      harness.send("A", s(1), traced(1));
      harness.send("A", s(2), CorrelatorHarness.headers());
      harness.send("Z", s(10), traced(2));

      SpanData span = harness.aggregateSpans().get(0);
      assertThat(span.getName()).isEqualTo("aggregate events");
      assertThat(span.getKind()).isEqualTo(io.opentelemetry.api.trace.SpanKind.CONSUMER);
      Map<String, Object> attributes =
          span.getAttributes().asMap().entrySet().stream()
              .collect(Collectors.toMap(e -> e.getKey().getKey(), Map.Entry::getValue));
      assertThat(attributes)
          .containsEntry("messaging.system", "kafka")
          .containsEntry("messaging.operation.type", "process")
          .containsEntry("messaging.operation.name", "aggregate")
          .containsEntry("messaging.destination.name", "events")
          .containsEntry("messaging.consumer.group.name", "window-types")
          .containsEntry("messaging.batch.message_count", 2L)
          .containsEntry("correlator.group_key", "A")
          .containsEntry("correlator.window.type", "tumbling")
          .containsEntry("correlator.window.start", "2026-11-26T10:00:00Z")
          .containsEntry("correlator.window.end", "2026-11-26T10:00:10Z")
          .containsEntry("correlator.window.start_ms", T0)
          .containsEntry("correlator.window.end_ms", T0 + 10_000)
          .containsEntry("correlator.links.total", 1L)
          .containsEntry("correlator.links.linked", 1L)
          .containsEntry("correlator.links.unlinked", 1L)
          .containsEntry("correlator.links.chunks", 0L);
      assertThat(span.getLinks())
          .singleElement()
          .satisfies(
              link -> {
                assertThat(link.getSpanContext().getSpanId()).isEqualTo(spanId(1));
              });
    }
  }
}
