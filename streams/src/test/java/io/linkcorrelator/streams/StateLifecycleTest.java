package io.linkcorrelator.streams;

import static io.linkcorrelator.streams.LinkedHarness.T0;
import static io.linkcorrelator.streams.LinkedHarness.traced;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** A closed window's state is freed: only what open windows can still contain is kept. */
class StateLifecycleTest {

  @TempDir Path stateDir;

  static Stream<Arguments> windows() {
    Duration grace = Duration.ofSeconds(2);
    return Stream.of(
        Arguments.of(WindowSpec.tumbling(Duration.ofSeconds(10), grace)),
        Arguments.of(WindowSpec.hopping(Duration.ofSeconds(10), Duration.ofSeconds(3), grace)),
        Arguments.of(WindowSpec.sliding(Duration.ofSeconds(5), grace)),
        Arguments.of(WindowSpec.session(Duration.ofSeconds(4), grace)));
  }

  static Stream<Arguments> windowsWithAndWithoutCache() {
    return windows()
        .flatMap(
            window ->
                Stream.of(true, false)
                    .flatMap(
                        cached ->
                            Stream.of(StreamsConfig.AT_LEAST_ONCE, StreamsConfig.EXACTLY_ONCE_V2)
                                .map(
                                    guarantee ->
                                        Arguments.of(window.get()[0], cached, guarantee))));
  }

  @ParameterizedTest(name = "{0}, cached {1}, {2}")
  @MethodSource("windowsWithAndWithoutCache")
  void closingEveryWindowOfAKeyFreesAllOfItsState(
      WindowSpec window, boolean cached, String guarantee) {
    Properties settings = new Properties();
    settings.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
    if (!cached) {
      settings.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
    }
    try (LinkedHarness harness = new LinkedHarness(window, stateDir, settings)) {
      int sent = 0;
      for (int i = 0; i < 200; i++) {
        // Two keys, bursts and gaps, some records out of order within grace.
        long time = T0 + (i / 20) * 30_000L + (i % 20) * 700L - (i % 7 == 3 ? 1_500 : 0);
        harness.send(i % 2 == 0 ? "a" : "b", time, traced(i));
        sent++;
      }
      assertThat(entries(harness, LinkedHarness.LOG_STORE)).isNotEmpty();

      harness.send("z", T0 + 10_000_000, traced(1_000));
      settle(harness);

      long counted = harness.results().stream().filter(r -> !r.key().equals("z")).count();
      assertThat(counted).isPositive();
      assertThat(
              harness.counter("correlator.records", "late")
                  + harness.counter("correlator.records", "linked"))
          .isEqualTo(sent + 1);
      assertThat(
              entries(harness, LinkedHarness.LOG_STORE).stream()
                  .map(e -> StateKeys.groupKeyOfLog(e.key)))
          .containsExactly("z");
      List<KeyValue<Bytes, byte[]>> open =
          entries(harness, StateKeys.windowsFrom(), StateKeys.windowsTo());
      assertThat(open).map(e -> StateKeys.groupKeyOfWindow(e.key)).containsOnly("z");
      assertThat(entries(harness, LinkedHarness.WINDOWS_STORE))
          .as("no close index in the store")
          .allSatisfy(e -> assertThat(e.key.get()[0]).isNotEqualTo(StateKeys.EARLIER_CLOSE_INDEX));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("windows")
  void aLinkedAggregationKeepsItsStateInTwoStores(WindowSpec window) {
    try (LinkedHarness harness = new LinkedHarness(window, stateDir)) {
      harness.send("a", T0, traced(1));
      harness.send("a", T0 + 60_000, traced(2));

      assertThat(harness.driver.getAllStateStores().keySet())
          .containsExactlyInAnyOrder(LinkedHarness.LOG_STORE, LinkedHarness.WINDOWS_STORE);
      assertThat(harness.results()).isNotEmpty();
    }
  }

  @Test
  void windowStateOfAnEarlierLayoutIsRefusedNamingTheStoreAndTheReset() {
    try (LinkedHarness harness =
        new LinkedHarness(WindowSpec.tumbling(Duration.ofSeconds(10), Duration.ZERO), stateDir)) {
      KeyValueStore<Bytes, byte[]> state =
          harness.driver.getKeyValueStore(LinkedHarness.WINDOWS_STORE);
      StateKeys.refuseEarlierLayout(state, LinkedHarness.WINDOWS_STORE); // this layout passes
      harness.send("a", T0, traced(1));
      StateKeys.refuseEarlierLayout(state, LinkedHarness.WINDOWS_STORE);

      // The earlier windows store's key: [key length 4][key][start 8][end 8], no kind byte.
      byte[] earlier = new byte[4 + 1 + 16];
      earlier[3] = 1;
      earlier[4] = 'a';
      state.put(Bytes.wrap(earlier), new byte[8]);

      assertThatThrownBy(() -> StateKeys.refuseEarlierLayout(state, LinkedHarness.WINDOWS_STORE))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(LinkedHarness.WINDOWS_STORE)
          .hasMessageContaining("earlier version")
          .hasMessageContaining("kafka-streams-application-reset");
    }
  }

  /**
   * Under at-least-once an emitted window leaves the state over the next commits (its deletion
   * after the stream time that closed it, its log entries after its deletion): commits, with the
   * punctuator's calls in between (at most {@link OpenWindows#SETTLED_PER_CALL} windows each).
   */
  private static void settle(LinkedHarness harness) {
    for (int i = 0; i < 20; i++) {
      harness.driver.advanceWallClockTime(Duration.ofMillis(100));
    }
  }

  private static List<KeyValue<Bytes, byte[]>> entries(LinkedHarness harness, String store) {
    KeyValueStore<Bytes, byte[]> kv = harness.driver.getKeyValueStore(store);
    List<KeyValue<Bytes, byte[]>> entries = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> all = kv.all()) {
      all.forEachRemaining(entries::add);
    }
    return entries;
  }

  /** The window state's entries in [from, to]. */
  private static List<KeyValue<Bytes, byte[]>> entries(
      LinkedHarness harness, Bytes from, Bytes to) {
    KeyValueStore<Bytes, byte[]> kv = harness.driver.getKeyValueStore(LinkedHarness.WINDOWS_STORE);
    List<KeyValue<Bytes, byte[]>> entries = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> range = kv.range(from, to)) {
      range.forEachRemaining(entries::add);
    }
    return entries;
  }
}
