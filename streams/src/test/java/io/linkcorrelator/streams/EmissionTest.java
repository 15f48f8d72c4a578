package io.linkcorrelator.streams;

import static io.linkcorrelator.streams.LinkedHarness.T0;
import static io.linkcorrelator.streams.LinkedHarness.traced;
import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.sdk.trace.data.LinkData;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Emission is bounded per call, one window that cannot be emitted never blocks the others, and a
 * message that the contributor log holds twice is one contributor.
 */
class EmissionTest {

  @TempDir Path stateDir;

  private static WindowSpec window() {
    return WindowSpec.tumbling(Duration.ofSeconds(10), Duration.ZERO);
  }

  /** Windows of one contributor each that one piece takes: its work reaches the bound. */
  private static final int WINDOWS_PER_PIECE =
      (WindowProcessor.WORK_PER_PIECE + WindowProcessor.WINDOW_WORK)
          / (1 + WindowProcessor.WINDOW_WORK);

  @Test
  void aBurstOfClosingWindowsIsEmittedInPiecesBoundedByTheirWorkContinuedByThePunctuator() {
    assertBurstInPieces(new Properties(), stateDir);
  }

  @Test
  void underExactlyOnceABurstIsEmittedInTheSamePiecesWithOrWithoutTheRecordCache() {
    for (int cacheBytes : new int[] {10 * 1024 * 1024, 2_048, 0}) {
      Properties settings = new Properties();
      settings.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
      settings.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, cacheBytes);
      assertBurstInPieces(settings, stateDir.resolve("cache-" + cacheBytes));
    }
  }

  /**
   * A burst of windows of one contributor each: the first piece is the windows whose work reaches
   * {@link WindowProcessor#WORK_PER_PIECE}, the rest follow piece by piece from the punctuator (the
   * driver commits after every call), each window once.
   */
  private void assertBurstInPieces(Properties settings, Path dir) {
    int windows = 2 * WINDOWS_PER_PIECE + 50;
    try (LinkedHarness harness = new LinkedHarness(window(), dir, settings)) {
      for (int i = 0; i < windows; i++) {
        harness.send("key-" + i, T0 + 1, traced(i));
      }
      harness.send("closer", T0 + 60_000, traced(99_999));
      List<TestRecord<String, Long>> results = new ArrayList<>(harness.results());
      assertThat(results).as("one piece per call").hasSize(WINDOWS_PER_PIECE);

      harness.driver.advanceWallClockTime(Duration.ofMillis(100));
      results.addAll(harness.results());
      assertThat(results).as("the next piece").hasSize(2 * WINDOWS_PER_PIECE);
      harness.driver.advanceWallClockTime(Duration.ofMillis(100));
      results.addAll(harness.results());
      harness.driver.advanceWallClockTime(Duration.ofMillis(100));
      results.addAll(harness.results());

      Map<String, Long> perKey =
          results.stream().collect(Collectors.groupingBy(TestRecord::key, Collectors.counting()));
      assertThat(perKey).hasSize(windows);
      assertThat(perKey.values()).as("each window once").containsOnly(1L);
    }
  }

  @Test
  void aWindowThatCannotBeEmittedIsCountedAndNeverBlocksTheWindowsBehindIt() {
    try (LinkedHarness harness = new LinkedHarness(window(), stateDir)) {
      harness.send("A", T0 + 1, traced(1));
      harness.send("B", T0 + 2, traced(2));
      // A corrupt contributor in A's window: its emission fails.
      KeyValueStore<Bytes, byte[]> log = harness.driver.getKeyValueStore(LinkedHarness.LOG_STORE);
      // A page of A's bucket (topic id 0, "events", the first and only topic) whose one entry at
      // T0 + 3 is cut short: header layout, count 1, least and greatest time 3 (zig-zag varints).
      log.put(
          StateKeys.logPage(StateKeys.groupKey("A"), T0, 0, 0, 99),
          new byte[] {ContributorLog.PAGE_LAYOUT, 2, 6, 6, (byte) 0xFF});

      harness.send("C", T0 + 10_001, traced(3)); // closes [T0, T0 + 10 s) of A and B
      harness.send("D", T0 + 60_000, traced(4)); // closes C's window

      assertThat(harness.results().stream().map(TestRecord::key)).containsExactly("B", "C");
      assertThat(harness.counter("correlator.windows.failed", null)).isEqualTo(1);
      assertThat(harness.counter("correlator.records", "late")).isZero();
      assertThat(harness.counter("correlator.records", "linked")).isEqualTo(4);
    }
  }

  @Test
  void aPieceEndsWhereTheSpanQueueHasNoRoomAndThePunctuatorGoesOnOnceItHas() {
    AtomicInteger room = new AtomicInteger(3); // windows the span processor has room for
    try (LinkedHarness harness =
        new LinkedHarness(window(), stateDir, () -> room.getAndDecrement() > 0)) {
      for (int i = 0; i < 10; i++) {
        harness.send("key-" + i, T0 + 1, traced(i));
      }
      harness.send("closer", T0 + 60_000, traced(9_999));
      assertThat(harness.results()).as("emitted while there was room").hasSize(3);
      assertThat(harness.aggregateSpans()).hasSize(3);

      harness.driver.advanceWallClockTime(Duration.ofMillis(200));
      assertThat(harness.results()).as("no room: nothing emitted").isEmpty();
      assertThat(harness.aggregateSpans()).hasSize(3);

      room.set(Integer.MAX_VALUE);
      harness.driver.advanceWallClockTime(Duration.ofMillis(200));
      assertThat(harness.results().stream().map(TestRecord::key))
          .as("the rest, once exports made room")
          .containsExactlyInAnyOrder("key-3", "key-4", "key-5", "key-6", "key-7", "key-8", "key-9");
      assertThat(harness.aggregateSpans()).hasSize(10);
    }
  }

  @Test
  void aMessageInTwoPagesOfTheLogIsCountedAndLinkedOnce() {
    try (LinkedHarness harness = new LinkedHarness(window(), stateDir)) {
      for (int i = 0; i < 3; i++) {
        harness.send("A", T0 + 1 + i, traced(i));
      }
      // As after a crash under at-least-once: the messages processed again into pages of their own.
      KeyValueStore<Bytes, byte[]> log = harness.driver.getKeyValueStore(LinkedHarness.LOG_STORE);
      List<KeyValue<Bytes, byte[]>> pages = new ArrayList<>();
      try (KeyValueIterator<Bytes, byte[]> all = log.all()) {
        all.forEachRemaining(pages::add);
      }
      assertThat(pages).isNotEmpty();
      for (int i = 0; i < pages.size(); i++) {
        log.put(
            StateKeys.logPage(StateKeys.groupKey("A"), T0, 0, 0, 1_000 + i), pages.get(i).value);
      }

      harness.send("B", T0 + 60_000, traced(9));

      assertThat(harness.results())
          .singleElement()
          .satisfies(r -> assertThat(r.value()).isEqualTo(3));
      assertThat(harness.aggregateSpans())
          .singleElement()
          .satisfies(
              span ->
                  assertThat(span.getLinks().stream().map(LinkData::getSpanContext))
                      .extracting(c -> c.getSpanId())
                      .containsExactly(
                          LinkedHarness.spanId(0),
                          LinkedHarness.spanId(1),
                          LinkedHarness.spanId(2)));
    }
  }
}
