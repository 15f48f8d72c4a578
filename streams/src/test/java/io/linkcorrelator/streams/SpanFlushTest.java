package io.linkcorrelator.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.sdk.common.CompletableResultCode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpanFlushTest {

  private final List<CompletableResultCode> flushes = new ArrayList<>();
  private final List<Boolean> waiting = new ArrayList<>();
  private long nanos;

  private CompletableResultCode flush() {
    CompletableResultCode result = new CompletableResultCode();
    flushes.add(result);
    return result;
  }

  @Test
  void resultsWaitUntilTheirExportIsConfirmedWithoutBlocking() {
    SpanFlush spanFlush = new SpanFlush(this::flush, 60_000, waiting::add, () -> nanos);
    SpanFlush.Export export = spanFlush.start();
    nanos += 59_000_000_000L;
    assertThat(spanFlush.done(export)).isFalse();
    assertThat(spanFlush.done(export)).isFalse();
    flushes.get(0).succeed();
    assertThat(spanFlush.done(export)).isTrue();
    assertThat(flushes).hasSize(1);
    assertThat(waiting).isEmpty();
  }

  @Test
  void stopsWaitingAfterAnUnconfirmedExportAndWaitsAgainOnceOneSucceeds() {
    SpanFlush spanFlush = new SpanFlush(this::flush, 50, waiting::add, () -> nanos);

    SpanFlush.Export export = spanFlush.start();
    nanos += 49_000_000;
    assertThat(spanFlush.done(export)).isFalse();
    nanos += 1_000_000;
    assertThat(spanFlush.done(export)).as("the backend is down: not confirmed in time").isTrue();
    assertThat(waiting).containsExactly(false);

    assertThat(spanFlush.done(spanFlush.start())).as("no wait: starts a probe").isTrue();
    assertThat(spanFlush.done(spanFlush.start())).as("probe still running: no new one").isTrue();
    assertThat(flushes).hasSize(2);

    flushes.get(1).succeed(); // the backend is back
    SpanFlush.Export again = spanFlush.start();
    assertThat(spanFlush.done(again)).as("healthy again: waits for a new export").isFalse();
    assertThat(flushes).hasSize(3);
    assertThat(waiting).containsExactly(false, true);
  }

  @Test
  void aFailedExportStopsTheWaitingAtOnce() {
    SpanFlush spanFlush = new SpanFlush(this::flush, 60_000, waiting::add);
    SpanFlush.Export export = spanFlush.start();
    flushes.get(0).fail();
    assertThat(spanFlush.done(export)).isTrue();
    assertThat(waiting).containsExactly(false);
  }

  @Test
  void aZeroTimeoutOrNoSdkNeverWaits() {
    SpanFlush zeroTimeout = new SpanFlush(this::flush, 0, waiting::add);
    SpanFlush noSdk = new SpanFlush(null, 1_000, waiting::add);
    assertThat(zeroTimeout.done(zeroTimeout.start())).isTrue();
    assertThat(noSdk.done(noSdk.start())).isTrue();
    assertThat(zeroTimeout.waits()).isFalse();
    assertThat(noSdk.waits()).isFalse();
    assertThat(waiting).isEmpty();
  }

  @Test
  void aZeroTimeoutStillStartsTheExportAtOnceWithoutWaitingForIt() {
    SpanFlush zeroTimeout = new SpanFlush(this::flush, 0, waiting::add);
    SpanFlush.Export export = zeroTimeout.start();
    assertThat(flushes).as("the spans go out now, not on the span processor's schedule").hasSize(1);
    assertThat(zeroTimeout.done(export)).as("unconfirmed, yet results do not wait").isTrue();
    assertThat(waiting).isEmpty();
  }
}
