package io.linkcorrelator.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The benchmark harness runs and measures what it claims, on a workload small enough for verify.
 */
class BenchSmokeTest {

  @Test
  void everyVariantProcessesTheWholeWorkloadAndTheLinkingOnesLinkEveryRecord() {
    Workload workload = Workload.of(2_000, 100);
    for (Variant variant : Variant.values()) {
      DriverRun.Result result = DriverRun.run(variant, workload, Long.MAX_VALUE);
      assertThat(result.complete()).as(variant.label).isTrue();
      assertThat(result.records()).as(variant.label).isEqualTo(2_000);
      assertThat(result.stateBytesPerRecord()).as(variant.label).isPositive();
      assertThat(result.allocatedPerRecord()).as(variant.label).isPositive();
      if (variant != Variant.BASELINE) {
        assertThat(result.links()).as("%s links every record", variant.label).isEqualTo(2_000);
      }
    }
  }

  @Test
  void aRunThatHitsItsTimeLimitSaysSo() {
    DriverRun.Result result = DriverRun.run(Variant.NAIVE, Workload.of(5_000, 5_000), 1);
    assertThat(result.complete()).isFalse();
    assertThat(result.records()).isLessThan(5_000);
  }
}
