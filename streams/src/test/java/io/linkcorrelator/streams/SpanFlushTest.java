package io.linkcorrelator.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.sdk.common.CompletableResultCode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpanFlushTest {

  private final List<CompletableResultCode> flushes = new ArrayList<>();
  private final List<Boolean> waiting = new ArrayList<>();

  private CompletableResultCode flush() {
    CompletableResultCode result = new CompletableResultCode();
    flushes.add(result);
    return result;
  }

  @Test
  void waitsForAConfirmedExportWhileExportsSucceed() {
    SpanFlush spanFlush =
        new SpanFlush(() -> CompletableResultCode.ofSuccess(), 1_000, waiting::add);
    spanFlush.awaitExport();
    spanFlush.awaitExport();
    assertThat(waiting).isEmpty();
  }

  @Test
  void stopsWaitingAfterAnUnconfirmedExportAndWaitsAgainOnceOneSucceeds() {
    SpanFlush spanFlush = new SpanFlush(this::flush, 50, waiting::add);

    spanFlush.awaitExport(); // times out: the backend is down
    assertThat(flushes).hasSize(1);
    assertThat(waiting).containsExactly(false);

    spanFlush.awaitExport(); // no wait: starts a probe
    spanFlush.awaitExport(); // probe still running: no new flush, no wait
    assertThat(flushes).hasSize(2);

    flushes.get(1).succeed(); // the backend is back
    spanFlush.awaitExport(); // healthy again: waits for a new flush (which times out)
    assertThat(flushes).hasSize(3);
    assertThat(waiting).containsExactly(false, true, false);
  }

  @Test
  void aZeroTimeoutOrNoSdkNeverWaits() {
    SpanFlush zeroTimeout = new SpanFlush(this::flush, 0, waiting::add);
    SpanFlush noSdk = new SpanFlush(null, 1_000, waiting::add);
    zeroTimeout.awaitExport();
    noSdk.awaitExport();
    assertThat(flushes).isEmpty();
    assertThat(zeroTimeout.waits()).isFalse();
    assertThat(noSdk.waits()).isFalse();
    assertThat(waiting).isEmpty();
  }
}
