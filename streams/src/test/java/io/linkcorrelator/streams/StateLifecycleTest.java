package io.linkcorrelator.streams;

import static io.linkcorrelator.streams.LinkedHarness.T0;
import static io.linkcorrelator.streams.LinkedHarness.traced;
import static org.assertj.core.api.Assertions.assertThat;

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
                Stream.of(
                    Arguments.of(window.get()[0], true), Arguments.of(window.get()[0], false)));
  }

  @ParameterizedTest(name = "{0}, cached {1}")
  @MethodSource("windowsWithAndWithoutCache")
  void closingEveryWindowOfAKeyFreesAllOfItsState(WindowSpec window, boolean cached) {
    Properties settings = new Properties();
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
      assertThat(keysOf(harness, LinkedHarness.WINDOWS_STORE)).containsOnly("z");
      assertThat(entries(harness, LinkedHarness.CLOSE_STORE))
          .hasSameSizeAs(entries(harness, LinkedHarness.WINDOWS_STORE));
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

  private static List<String> keysOf(LinkedHarness harness, String store) {
    return entries(harness, store).stream().map(e -> StateKeys.groupKeyOfWindow(e.key)).toList();
  }
}
