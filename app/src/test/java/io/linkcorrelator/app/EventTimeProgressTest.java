package io.linkcorrelator.app;

import static io.linkcorrelator.app.CorrelatorHarness.headers;
import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.streams.DeadLetterHandler;
import io.linkcorrelator.streams.WindowSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Event-time progress after a repartition (the slowest active upstream partition), idle windows
 * closing by wall clock, and dead letters that name the original message. TopologyTestDriver reads
 * every topic's partition 0, so two input topics stand for two upstream partitions.
 */
class EventTimeProgressTest {

  /** How often the library's capture reports a source partition's progress at most. */
  private static final Duration PROGRESS_EVERY = Duration.ofMillis(200);

  /** A minute boundary, long before the driver's wall clock. */
  private static final long T0 = 1_699_999_980_000L;

  private static final long IDLE_MS = CorrelatorConfig.DEFAULT_PARTITION_IDLE_MS;

  @TempDir Path stateDir;

  private static CorrelatorConfig.Builder regrouped() {
    return CorrelatorConfig.builder()
        .applicationId("progress")
        .inputTopics("fast", "slow")
        .outputTopic("results")
        .groupBy(GroupBy.header("tenant"))
        .window(WindowSpec.tumbling(Duration.ofMinutes(1), Duration.ofSeconds(5)));
  }

  private static CorrelatorConfig.Builder byKey() {
    return CorrelatorConfig.builder()
        .applicationId("idle")
        .inputTopics("events")
        .outputTopic("results")
        .window(WindowSpec.tumbling(Duration.ofMinutes(1), Duration.ofSeconds(5)));
  }

  private static void send(CorrelatorHarness harness, String topic, String tenant, long time) {
    harness.send(topic, "k", "v".getBytes(StandardCharsets.UTF_8), time, headers("tenant", tenant));
  }

  private static TestOutputTopic<byte[], byte[]> deadLetters(CorrelatorHarness harness) {
    return harness.driver.createOutputTopic(
        CorrelatorHarness.DEAD_LETTERS, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private static String header(Headers headers, String name) {
    return new String(headers.lastHeader(name).value(), StandardCharsets.UTF_8);
  }

  @Test
  void aWindowStaysOpenUntilTheSlowestUpstreamPartitionHasPassedIt() {
    try (CorrelatorHarness harness = new CorrelatorHarness(regrouped().build(), stateDir)) {
      harness.letSilentPartitionsGoIdle(); // past the first start's wait; both have reported
      send(harness, "fast", "a", T0 + 1);
      send(harness, "slow", "a", T0 + 2);
      send(harness, "fast", "b", T0 + 120_000);
      assertThat(harness.results()).isEmpty();

      // Late by the fast partition's time alone; not by the slow partition's own progress.
      send(harness, "slow", "a", T0 + 30_000);
      assertThat(harness.results()).isEmpty();

      send(harness, "slow", "b", T0 + 120_000);
      List<TestRecord<String, WindowResult>> results = harness.results();
      assertThat(results).extracting(TestRecord::key).containsExactly("a");
      assertThat(results.get(0).value().getMessageCount()).isEqualTo(3);
      assertThat(deadLetters(harness).isEmpty()).isTrue();
      assertThat(harness.counter("correlator.records", "late")).isZero();
    }
  }

  @Test
  void aPartitionWithoutRecordsHoldsTheWindowsUntilItIsIdle() {
    try (CorrelatorHarness harness = new CorrelatorHarness(regrouped().build(), stateDir)) {
      // The capture step reports every partition it reads, records or not.
      harness.driver.advanceWallClockTime(PROGRESS_EVERY);
      send(harness, "fast", "a", T0 + 1);
      send(harness, "fast", "b", T0 + 120_000);
      harness.driver.advanceWallClockTime(Duration.ofMillis(IDLE_MS - 1_000));
      assertThat(harness.results()).isEmpty();

      harness.driver.advanceWallClockTime(Duration.ofMillis(1_000));
      assertThat(harness.results()).extracting(TestRecord::key).containsExactly("a");
    }
  }

  @Test
  void onAFirstStartNoWindowClosesBeforeEveryUpstreamPartitionHadTheIdleTimeToReport() {
    try (CorrelatorHarness harness = new CorrelatorHarness(regrouped().build(), stateDir)) {
      send(harness, "fast", "a", T0 + 1);
      send(harness, "fast", "b", T0 + 120_000);
      assertThat(harness.results()).isEmpty(); // "slow" has not said a word yet

      harness.letSilentPartitionsGoIdle();
      assertThat(harness.results()).extracting(TestRecord::key).containsExactly("a");
    }
  }

  @Test
  void aLateRecordOfARegroupedTopologyIsDeadLetteredNamingTheOriginalMessage() {
    try (CorrelatorHarness harness = new CorrelatorHarness(regrouped().build(), stateDir)) {
      harness.driver.advanceWallClockTime(PROGRESS_EVERY);
      send(harness, "fast", "a", T0 + 1);
      send(harness, "fast", "b", T0 + 120_000);
      harness.driver.advanceWallClockTime(Duration.ofMillis(IDLE_MS));
      assertThat(harness.results()).hasSize(1);

      send(harness, "slow", "a", T0 + 10); // the idle partition wakes up behind closed windows
      send(harness, "slow", "a", T0 + 11);

      List<TestRecord<byte[], byte[]>> letters = deadLetters(harness).readRecordsToList();
      assertThat(letters).hasSize(2);
      Headers headers = letters.get(1).headers();
      assertThat(header(headers, DeadLetterHandler.TOPIC)).isEqualTo("slow");
      assertThat(header(headers, DeadLetterHandler.PARTITION)).isEqualTo("0");
      assertThat(header(headers, DeadLetterHandler.OFFSET)).isEqualTo("1");
      assertThat(header(headers, "__streams.errors.message")).startsWith("late: slow-0@1");
      assertThat(harness.counter("correlator.records", "late")).isEqualTo(2);
    }
  }

  @Test
  void idleWindowsCloseByWallClockOnceStreamTimeHasStoodStillForTheIdleTime() {
    CorrelatorConfig config = byKey().windowIdleCloseMs(30_000).build();
    try (CorrelatorHarness harness = new CorrelatorHarness(config, stateDir)) {
      harness.send("quiet", T0 + 1, CorrelatorHarness.traced(1));
      harness.driver.advanceWallClockTime(Duration.ofMillis(29_000));
      assertThat(harness.results()).isEmpty();

      harness.driver.advanceWallClockTime(Duration.ofMillis(1_000));
      List<TestRecord<String, WindowResult>> results = harness.results();
      assertThat(results).extracting(TestRecord::key).containsExactly("quiet");
      assertThat(results.get(0).value().getLinkedCount()).isEqualTo(1);

      // Stream time moved to the window's close time: it cannot open a second time.
      harness.send("quiet", T0 + 2, CorrelatorHarness.traced(2));
      assertThat(deadLetters(harness).readRecordsToList()).hasSize(1);
      harness.driver.advanceWallClockTime(Duration.ofMillis(60_000));
      assertThat(harness.results()).isEmpty();
    }
  }

  @Test
  void withIdleClosingOffAWindowWaitsForALaterRecordAsInKafkaStreams() {
    CorrelatorConfig config = byKey().windowIdleCloseMs(0).build();
    try (CorrelatorHarness harness = new CorrelatorHarness(config, stateDir)) {
      harness.send("quiet", T0 + 1, CorrelatorHarness.traced(1));
      harness.driver.advanceWallClockTime(Duration.ofHours(1));
      assertThat(harness.results()).isEmpty();

      harness.send("other", T0 + 120_000, CorrelatorHarness.traced(2));
      assertThat(harness.results()).extracting(TestRecord::key).containsExactly("quiet");
    }
  }
}
