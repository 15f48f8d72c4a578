package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

class ThreadReplacementsTest {

  private final AtomicLong nanos = new AtomicLong();
  private final RuntimeException error = new IllegalStateException("boom");

  @Test
  void aThreadIsReplacedAtMostMaxTimesPerIntervalThenTheClientShutsDown() {
    ThreadReplacements handler = new ThreadReplacements(2, Duration.ofMinutes(5), nanos::get);

    assertThat(handler.handle(error)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
    nanos.addAndGet(Duration.ofMinutes(1).toNanos());
    assertThat(handler.handle(error)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
    nanos.addAndGet(Duration.ofMinutes(1).toNanos());
    assertThat(handler.handle(error)).isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
  }

  @Test
  void failuresOlderThanTheIntervalNoLongerCount() {
    ThreadReplacements handler = new ThreadReplacements(2, Duration.ofMinutes(5), nanos::get);
    handler.handle(error);
    handler.handle(error);

    nanos.addAndGet(Duration.ofMinutes(5).toNanos());

    assertThat(handler.handle(error)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
    assertThat(handler.handle(error)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
    assertThat(handler.handle(error)).isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
  }

  @Test
  void zeroReplacementsShutsDownOnTheFirstFailure() {
    ThreadReplacements handler = new ThreadReplacements(0, Duration.ofMinutes(5), nanos::get);

    assertThat(handler.handle(error)).isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
  }
}
