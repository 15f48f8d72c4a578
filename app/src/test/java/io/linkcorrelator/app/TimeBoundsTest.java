package io.linkcorrelator.app;

import static io.linkcorrelator.app.CorrelatorHarness.T0;
import static io.linkcorrelator.app.CorrelatorHarness.traced;
import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.streams.WindowSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Time arithmetic saturates at every bound instead of overflowing. */
class TimeBoundsTest {

  private static final Duration HUGE = Duration.ofMillis(Long.MAX_VALUE / 2);

  @TempDir Path stateDir;

  private static CorrelatorConfig.Builder config(WindowSpec window) {
    return CorrelatorConfig.builder()
        .applicationId("time-bounds")
        .inputTopics("events")
        .outputTopic("results")
        .window(window);
  }

  @Test
  void maxFutureDefaultsToOneHourAsKafka4Brokers() {
    assertThat(
            config(WindowSpec.tumbling(Duration.ofSeconds(1), Duration.ZERO)).build().maxFutureMs())
        .isEqualTo(Duration.ofHours(1).toMillis());
  }

  @Test
  void theLargestMaxFutureAcceptsEveryTimestamp() {
    CorrelatorConfig config =
        config(WindowSpec.tumbling(Duration.ofSeconds(1), Duration.ZERO))
            .maxFutureMs(Long.MAX_VALUE)
            .build();
    try (CorrelatorHarness harness = new CorrelatorHarness(config, stateDir)) {
      harness.send("k", T0, traced(1));
      assertThat(harness.counter("correlator.records", "invalid_timestamp")).isZero();
      assertThat(harness.counter("correlator.records", "linked")).isEqualTo(1);
    }
  }

  static Stream<Arguments> windowsReachingPastTheEndOfTime() {
    return Stream.of(
        Arguments.of(
            WindowSpec.tumbling(Duration.ofSeconds(10), Duration.ZERO), Long.MAX_VALUE - 2),
        Arguments.of(
            WindowSpec.hopping(Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ZERO),
            Long.MAX_VALUE - 2),
        Arguments.of(WindowSpec.tumbling(HUGE, HUGE), T0),
        Arguments.of(WindowSpec.sliding(HUGE, HUGE), T0),
        Arguments.of(WindowSpec.sliding(Duration.ofSeconds(5), Duration.ZERO), Long.MAX_VALUE - 2),
        Arguments.of(WindowSpec.session(HUGE, HUGE), T0),
        Arguments.of(WindowSpec.session(Duration.ofSeconds(5), Duration.ZERO), Long.MAX_VALUE - 2));
  }

  @ParameterizedTest(name = "{0} at {1}")
  @MethodSource("windowsReachingPastTheEndOfTime")
  void aWindowEndingPastTheEndOfTimeStaysOpenInsteadOfClosingAtOnce(WindowSpec window, long time) {
    CorrelatorConfig config = config(window).maxFutureMs(Long.MAX_VALUE).build();
    try (CorrelatorHarness harness = new CorrelatorHarness(config, stateDir)) {
      harness.send("k", time, traced(1));
      harness.send("k", time, traced(2));

      assertThat(harness.counter("correlator.records", "late")).isZero();
      assertThat(harness.counter("correlator.records", "linked")).isEqualTo(2);
      assertThat(harness.results()).as("nothing closes before the end of time").isEmpty();
    }
  }
}
