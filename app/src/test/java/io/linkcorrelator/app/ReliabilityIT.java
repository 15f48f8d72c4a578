package io.linkcorrelator.app;

import static io.linkcorrelator.app.AppTestKit.T0;
import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedSpan;
import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.streams.DeterministicIds;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * No contributor lost, no result duplicated (under exactly-once), no stream stopped, under faults:
 * a killed JVM, a rebalance, outages of the trace backend and of the broker. The correlator runs in
 * JVMs of its own, started through its real main.
 */
class ReliabilityIT {

  private static final int MESSAGES = 3_000;
  private static final int KEYS = 8;
  private static final long STEP_MS = 10; // 3,000 messages over 30 s: 3 windows of 10 s per key
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(150);

  @AutoClose private final EmbeddedKafka kafka = EmbeddedKafka.start();
  @AutoClose private final OtlpReceiver receiver = OtlpReceiver.start();

  @TempDir Path dir;

  /** Per (key, window start) the number of messages it must count. */
  private static Map<String, Long> expectedCounts(int messages) {
    return IntStream.range(0, messages)
        .boxed()
        .collect(
            Collectors.groupingBy(
                i -> window("customer-" + (i % KEYS), T0 + (i * STEP_MS) / 10_000 * 10_000),
                TreeMap::new,
                Collectors.counting()));
  }

  private static String window(String key, long start) {
    return key + "@" + (start - T0);
  }

  private static String window(WindowResult result) {
    return window(result.getGroupKey(), result.getWindowStart().toEpochMilli());
  }

  private static Map<String, List<WindowResult>> byWindow(
      List<ConsumerRecord<String, WindowResult>> results) {
    return results.stream()
        .map(ConsumerRecord::value)
        .collect(Collectors.groupingBy(ReliabilityIT::window, TreeMap::new, Collectors.toList()));
  }

  /**
   * A correlator's configuration without idle closing: these tests stop brokers, processes and the
   * backend, and their event times lie days in the past, so a pause longer than {@code
   * correlator.window.idle.close.ms} on a loaded machine would close the open windows by the wall
   * clock and make the records after it late — not what a crash test is about. Windows close here
   * by stream time only ({@link AppTestKit#closeAllWindows}).
   */
  private static Path config(Path dir, String name, String applicationId, String... extraLines) {
    String[] lines = java.util.Arrays.copyOf(extraLines, extraLines.length + 1);
    lines[extraLines.length] = "correlator.window.idle.close.ms=0";
    return AppTestKit.config(dir, name, applicationId, lines);
  }

  private static List<ConsumerRecord<String, WindowResult>> readAll(
      EmbeddedKafka kafka, String isolation, int windows, CorrelatorProcess... processes) {
    List<ConsumerRecord<String, WindowResult>> results =
        AppTestKit.readResults(
            kafka,
            isolation,
            READ_TIMEOUT,
            r -> byWindow(r).size() >= windows,
            () -> java.util.Arrays.stream(processes).anyMatch(CorrelatorProcess::isAlive));
    // A little longer, so that a duplicate would show up too.
    AppTestKit.sleep(Duration.ofSeconds(2));
    return AppTestKit.readResults(kafka, isolation, Duration.ofSeconds(3), r -> false, () -> true);
  }

  private static void assertEveryResultIsCompleteWithDeterministicIds(
      Map<String, List<WindowResult>> results,
      Map<String, Long> expected,
      String applicationId,
      String logs) {
    assertThat(results.keySet())
        .as("every (key, window) has a result; logs:%n%s", logs)
        .containsExactlyElementsOf(expected.keySet());
    results.forEach(
        (window, copies) ->
            copies.forEach(
                result -> {
                  assertThat(result.getMessageCount()).as(window).isEqualTo(expected.get(window));
                  DeterministicIds.WindowIds ids =
                      DeterministicIds.forWindow(
                          applicationId,
                          result.getGroupKey(),
                          "TUMBLING",
                          result.getWindowStart().toEpochMilli(),
                          result.getWindowEnd().toEpochMilli());
                  assertThat(result.getTraceId())
                      .as("the uninterrupted run's trace id")
                      .isEqualTo(ids.traceId());
                  assertThat(result.getSpanId())
                      .as("the uninterrupted run's span id")
                      .isEqualTo(ids.spanId());
                }));
  }

  private static void assertEveryMessageLinked(OtlpReceiver receiver, int messages) {
    Map<String, Integer> linked = AppTestKit.linkCounts(receiver.spans());
    List<String> missing =
        IntStream.range(0, messages)
            .mapToObj(AppTestKit::producerSpan)
            .filter(s -> !linked.containsKey(s))
            .toList();
    assertThat(missing).as("producer spans never linked").isEmpty();
    assertThat(receiver.spans()).allSatisfy(span -> assertThat(span.droppedLinksCount()).isZero());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"exactly_once_v2", "at_least_once"})
  void aCorrelatorKilledMidStreamRestartsWithoutLosingAContributor(String guarantee)
      throws Exception {
    AppTestKit.createTopics(kafka);
    String applicationId = "crash-" + guarantee.replace('_', '-');
    Path config = config(dir, "crash", applicationId, "processing.guarantee=" + guarantee);
    Map<String, String> env = AppTestKit.env(kafka, receiver, true);
    String isolation = guarantee.startsWith("exactly") ? "read_committed" : "read_uncommitted";

    CorrelatorProcess first = CorrelatorProcess.start(config, env, "first");
    AppTestKit.send(kafka, 0, MESSAGES / 2, KEYS, STEP_MS);
    // Some windows closed (the first of every key), others still open: then kill -9.
    AppTestKit.readResults(kafka, isolation, READ_TIMEOUT, r -> !r.isEmpty(), first::isAlive);
    first.kill();

    AppTestKit.send(kafka, MESSAGES / 2, MESSAGES, KEYS, STEP_MS);
    AppTestKit.closeAllWindows(kafka);
    try (CorrelatorProcess second = CorrelatorProcess.start(config, env, "second")) {
      Map<String, List<WindowResult>> results =
          byWindow(readAll(kafka, isolation, KEYS * 3, second));
      second.stop();

      Map<String, Long> expected = expectedCounts(MESSAGES);
      String logs = AppTestKit.log(first) + AppTestKit.log(second);
      assertEveryResultIsCompleteWithDeterministicIds(results, expected, applicationId, logs);
      if (guarantee.equals("exactly_once_v2")) {
        assertThat(results.values())
            .as("exactly one result per (key, window)")
            .allSatisfy(copies -> assertThat(copies).hasSize(1));
      }
      assertEveryMessageLinked(receiver, MESSAGES);
    } finally {
      first.close();
    }
  }

  @Test
  void twoInstancesShareTheWorkAndOneLeavingMidStreamLosesNothing() throws Exception {
    AppTestKit.createTopics(kafka);
    Map<String, String> env = AppTestKit.env(kafka, receiver, false);
    try (CorrelatorProcess one =
            CorrelatorProcess.start(config(dir, "one", "scale-out"), env, "one");
        CorrelatorProcess two =
            CorrelatorProcess.start(config(dir, "two", "scale-out"), env, "two")) {
      AppTestKit.send(kafka, 0, MESSAGES / 2, KEYS, STEP_MS);
      AppTestKit.readResults(
          kafka, "read_committed", READ_TIMEOUT, r -> !r.isEmpty(), one::isAlive);
      two.stop();

      AppTestKit.send(kafka, MESSAGES / 2, MESSAGES, KEYS, STEP_MS);
      AppTestKit.closeAllWindows(kafka);
      Map<String, List<WindowResult>> results =
          byWindow(readAll(kafka, "read_committed", KEYS * 3, one));
      one.stop();

      assertEveryResultIsCompleteWithDeterministicIds(
          results,
          expectedCounts(MESSAGES),
          "scale-out",
          AppTestKit.log(one) + AppTestKit.log(two));
      assertThat(results.values()).allSatisfy(copies -> assertThat(copies).hasSize(1));
      assertEveryMessageLinked(receiver, MESSAGES);
    }
  }

  @Test
  void aTraceBackendDownAtStartNeverBlocksTheStreamAndExportResumesWhenItReturns()
      throws Exception {
    AppTestKit.createTopics(kafka);
    receiver.stop();
    Map<String, String> env = AppTestKit.env(kafka, receiver, false);
    try (CorrelatorProcess correlator =
        CorrelatorProcess.start(config(dir, "outage", "otlp-outage"), env, "outage")) {
      // Past 21 s: two windows per key close while nothing receives spans.
      AppTestKit.send(kafka, 0, 2_200, KEYS, STEP_MS);
      List<ConsumerRecord<String, WindowResult>> duringOutage =
          AppTestKit.readResults(
              kafka,
              "read_committed",
              READ_TIMEOUT,
              r -> byWindow(r).size() >= KEYS * 2,
              correlator::isAlive);
      assertThat(byWindow(duringOutage))
          .as("results flow while the backend is down")
          .hasSizeGreaterThanOrEqualTo(KEYS * 2);
      assertThat(receiver.spans()).isEmpty();

      receiver.restart();
      AppTestKit.send(kafka, 2_200, MESSAGES, KEYS, STEP_MS);
      AppTestKit.closeAllWindows(kafka);
      Map<String, List<WindowResult>> results =
          byWindow(readAll(kafka, "read_committed", KEYS * 3, correlator));
      assertThat(results).hasSize(KEYS * 3);
      List<WindowResult> afterOutage =
          results.values().stream()
              .flatMap(List::stream)
              .filter(r -> r.getWindowStart().toEpochMilli() == T0 + 20_000)
              .toList();
      for (WindowResult result : afterOutage) {
        List<ReceivedSpan> spans =
            receiver.awaitSpans(
                s -> s.traceId().equals(result.getTraceId()), 1, Duration.ofSeconds(30));
        assertThat(spans.stream().mapToLong(s -> s.links().size()).sum())
            .isEqualTo(result.getLinkedCount());
      }
      correlator.stop();
    }
  }

  @Test
  void aBrokerRestartMidRunIsRecoveredWithoutManualAction() throws Exception {
    AppTestKit.createTopics(kafka);
    Map<String, String> env = AppTestKit.env(kafka, receiver, true);
    try (CorrelatorProcess correlator =
        CorrelatorProcess.start(config(dir, "broker", "broker-restart"), env, "broker")) {
      AppTestKit.send(kafka, 0, MESSAGES / 2, KEYS, STEP_MS);
      AppTestKit.readResults(
          kafka, "read_committed", READ_TIMEOUT, r -> !r.isEmpty(), correlator::isAlive);

      kafka.stop();
      AppTestKit.sleep(Duration.ofSeconds(5));
      kafka.restart();

      AppTestKit.send(kafka, MESSAGES / 2, MESSAGES, KEYS, STEP_MS);
      AppTestKit.closeAllWindows(kafka);
      Map<String, List<WindowResult>> results =
          byWindow(readAll(kafka, "read_committed", KEYS * 3, correlator));
      assertThat(correlator.isAlive()).isTrue();
      assertEveryResultIsCompleteWithDeterministicIds(
          results, expectedCounts(MESSAGES), "broker-restart", AppTestKit.log(correlator));
      assertThat(results.values()).allSatisfy(copies -> assertThat(copies).hasSize(1));
      correlator.stop();
      assertEveryMessageLinked(receiver, MESSAGES);
    }
  }

  @Test
  void aWindowOfTwoHundredThousandContributorsIsFullyLinkedInA256MegabyteHeap() throws Exception {
    int contributors = 200_000;
    AppTestKit.createTopics(kafka);
    Map<String, String> env = AppTestKit.env(kafka, receiver, true);
    Path config = config(dir, "huge", "huge-window", "correlator.window.size.ms=60000");
    try (CorrelatorProcess correlator = CorrelatorProcess.start(config, env, "huge", "-Xmx256m")) {
      try (var producer = AppTestKit.producer(kafka)) {
        for (int i = 0; i < contributors; i++) {
          var record = AppTestKit.tracedMessage(i, 1, 0);
          producer.send(
              new org.apache.kafka.clients.producer.ProducerRecord<>(
                  record.topic(),
                  null,
                  T0 + i / 4,
                  record.key(),
                  record.value(),
                  record.headers()));
        }
      }
      AppTestKit.closeAllWindows(kafka);
      List<ConsumerRecord<String, WindowResult>> results =
          AppTestKit.readResults(
              kafka,
              "read_committed",
              Duration.ofMinutes(4),
              r -> !r.isEmpty(),
              correlator::isAlive);
      assertThat(results).as("log:%n%s", AppTestKit.log(correlator)).hasSize(1);
      assertThat(results.get(0).value().getMessageCount()).isEqualTo(contributors);

      receiver.awaitSpans(span -> true, contributors / 128 + 1, Duration.ofMinutes(2));
      correlator.stop();
      assertThat(AppTestKit.log(correlator)).doesNotContain("OutOfMemoryError");
      Map<String, Integer> linked = AppTestKit.linkCounts(receiver.spans());
      assertThat(linked).hasSize(contributors);
      assertThat(receiver.spans())
          .allSatisfy(span -> assertThat(span.droppedLinksCount()).isZero());
    }
  }
}
