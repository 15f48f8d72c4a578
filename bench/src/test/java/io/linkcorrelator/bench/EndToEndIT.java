package io.linkcorrelator.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.embedded.EmbeddedKafka;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The end-to-end harness, on a workload small enough for verify: both sides read every pre-loaded
 * record into one result per key and window, and the row holds what was measured.
 */
class EndToEndIT {

  @AutoClose private final EmbeddedKafka kafka = EmbeddedKafka.start();

  @TempDir Path dir;

  @Test
  void baselineAndCorrelatorEachGiveEveryWindowResultAndTheirCostsAreMeasured() throws Exception {
    Path jar =
        Path.of(System.getProperty("repository.root", ".."), "app", "target")
            .resolve("link-correlator.jar");
    EndToEnd.Cell cell = EndToEnd.Cell.of(2_000, 10);
    assertThat(cell.records()).isEqualTo(2_000);
    assertThat(cell.results()).isEqualTo(200);
    EndToEnd bench = new EndToEnd(kafka, jar, dir);
    bench.preload(cell);

    EndToEnd.Result a = bench.run(EndToEnd.Side.BASELINE, cell);
    EndToEnd.Result c = bench.run(EndToEnd.Side.CORRELATOR, cell);

    for (EndToEnd.Result result : List.of(a, c)) {
      assertThat(result.records()).isEqualTo(2_000);
      assertThat(result.results()).as("one result per key and window").isEqualTo(200);
      assertThat(result.recordsPerSecond()).isPositive();
      assertThat(result.secondHalfNanos()).isPositive().isLessThanOrEqualTo(result.nanos());
      assertThat(result.cpu().seconds()).as("the application JVM's CPU time").isPositive();
      assertThat(result.cpu().compilingShare())
          .as("its JIT compiler threads' share, from /proc")
          .isBetween(0.0, 1.0);
      assertThat(result.changelogRecords()).isPositive();
      assertThat(result.changelogBytes()).isGreaterThan(result.changelogRecords());
    }
    assertThat(a.spans()).isZero();
    assertThat(c.spans()).as("one aggregate span per window").isEqualTo(200);
    assertThat(c.p50Millis()).isNotNegative().isLessThanOrEqualTo(c.p99Millis());
    assertThat(c.roundTripP50Millis()).as("export round trip observed").isPositive();
    assertThat(c.decodeP99Millis()).isNotNegative();
    for (EndToEnd.Result result : List.of(a, c)) {
      assertThat(result.startMillis()).as("launch -> Kafka Streams start, logged").isPositive();
      assertThat(result.rebalanceMillis()).as("start -> RUNNING, logged").isPositive();
    }

    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    EndToEnd.print(
        List.of(
            new EndToEnd.Measured(EndToEnd.Side.BASELINE, 10, a),
            new EndToEnd.Measured(EndToEnd.Side.CORRELATOR, 10, c)),
        new PrintStream(printed, true, StandardCharsets.UTF_8));
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .contains("| 10 | 10 × 20 | A baseline |")
        .contains("| 10 | 10 × 20 | C correlator |");
  }
}
