package io.linkcorrelator.streams;

import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps the batch span processor's queue from overflowing, so that no span is dropped for want of
 * room: the batch processor drops a span silently when its queue ({@code otel.bsp.max.queue.size})
 * is full. This gate in front of it knows how many spans are in its hands — handed over and not yet
 * through an export, successful or not — and hands a span over only when there is room; a span that
 * finds none waits here and is handed over as exports complete.
 *
 * <p>The window step asks {@link #hasRoom()} before each window and, when there is none, ends its
 * piece and continues later: back-pressure on emission. So what waits here is at most the spans of
 * one window (all of them when one window alone needs more spans than the queue holds). Spans still
 * waiting when OpenTelemetry shuts down are counted in {@link DroppedSpans} ({@code
 * error.type=shutdown}).
 */
public final class ExportQueue {

  private final DroppedSpans dropped;
  private final List<AtomicLong> exported = new CopyOnWriteArrayList<>();
  private volatile Gate gate;

  /**
   * A queue with no processor gated yet ({@link #hasRoom()} is true until one is).
   *
   * @param dropped counts the spans still waiting at shutdown
   */
  public ExportQueue(DroppedSpans dropped) {
    this.dropped = dropped;
  }

  /**
   * Whether a window may be emitted now without its spans waiting here: no span is waiting and the
   * batch processor's queue is not full. Always true when there is no batch processor.
   *
   * @return whether a window's spans can be handed over now
   */
  public boolean hasRoom() {
    Gate current = gate;
    return current == null || current.hasRoom();
  }

  /**
   * The exporter, telling the gate of every export that completes (success or failure) and counting
   * the spans of every export that fails for good in {@link DroppedSpans}.
   *
   * @param exporter the exporter autoconfigure built
   * @return the tracked exporter
   */
  public SpanExporter tracking(SpanExporter exporter) {
    AtomicLong done = new AtomicLong();
    exported.add(done);
    return new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> spans) {
        int count = spans.size();
        CompletableResultCode result = exporter.export(spans);
        result.whenComplete(
            () -> {
              if (!result.isSuccess()) {
                dropped.exportFailed(count);
              }
              done.addAndGet(count);
              Gate current = gate;
              if (current != null) {
                current.exportCompleted();
              }
            });
        return result;
      }

      @Override
      public CompletableResultCode flush() {
        return exporter.flush();
      }

      @Override
      public CompletableResultCode shutdown() {
        return exporter.shutdown();
      }

      @Override
      public String toString() {
        return exporter.toString();
      }
    };
  }

  /**
   * The span processor, gated when it is a batch processor (the one autoconfigure builds for the
   * batching exporters; every exporter of it is {@link #tracking tracked}).
   *
   * @param processor the processor autoconfigure built
   * @param capacity its queue's size, {@code otel.bsp.max.queue.size}
   * @return the gated processor, or {@code processor} when it is not a batch processor
   */
  public SpanProcessor gated(SpanProcessor processor, int capacity) {
    if (!(processor instanceof BatchSpanProcessor)) {
      return processor;
    }
    if (gate != null) {
      throw new IllegalStateException("more than one batch span processor");
    }
    gate = new Gate(processor, capacity);
    return gate;
  }

  /** Spans exported (or failed) by every exporter: each exporter sees every span. */
  private long exported() {
    long least = Long.MAX_VALUE;
    for (AtomicLong done : exported) {
      least = Math.min(least, done.get());
    }
    return least == Long.MAX_VALUE ? 0 : least;
  }

  private final class Gate implements SpanProcessor {

    /**
     * How often, and after how long, a flush answered without covering its spans is asked again.
     */
    private static final int RETRIES = 5;

    private static final long RETRY_MS = 10;

    private final SpanProcessor batch;
    private final int capacity;
    private final Queue<ReadableSpan> waiting = new ArrayDeque<>();
    private final List<Flush> flushes = new ArrayList<>();
    private final ScheduledExecutorService nudges =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "correlator-export-queue");
              thread.setDaemon(true);
              return thread;
            });
    private long handedOver;

    /** Spans handed over when the batch processor was last asked to flush. */
    private long askedUpTo;

    /** A {@link #forceFlush()} waiting until {@code target} spans went through an export. */
    private record Flush(long target, CompletableResultCode result) {}

    Gate(SpanProcessor batch, int capacity) {
      this.batch = batch;
      this.capacity = capacity;
    }

    synchronized boolean hasRoom() {
      return waiting.isEmpty() && handedOver - exported() < capacity;
    }

    @Override
    public void onStart(Context parentContext, ReadWriteSpan span) {
      batch.onStart(parentContext, span);
    }

    @Override
    public boolean isStartRequired() {
      return batch.isStartRequired();
    }

    @Override
    public synchronized void onEnd(ReadableSpan span) {
      if (!span.getSpanContext().isSampled()) {
        batch.onEnd(span); // not exported: takes no room
        return;
      }
      waiting.add(span);
      release();
    }

    @Override
    public boolean isEndRequired() {
      return true;
    }

    /** Hands waiting spans over while the batch processor's queue has room. */
    private synchronized boolean release() {
      long inFlight = handedOver - exported();
      boolean moved = false;
      while (!waiting.isEmpty() && inFlight < capacity) {
        batch.onEnd(waiting.poll());
        handedOver++;
        inFlight++;
        moved = true;
      }
      return moved;
    }

    /** After an export completed: hands waiting spans over, completes the flushes now done. */
    void exportCompleted() {
      List<CompletableResultCode> done = new ArrayList<>();
      boolean nudge;
      synchronized (this) {
        boolean moved = release();
        long exported = exported();
        flushes.removeIf(
            flush -> {
              boolean reached = exported >= flush.target();
              if (reached) {
                done.add(flush.result());
              }
              return reached;
            });
        nudge = moved && !flushes.isEmpty();
        if (nudge) {
          askedUpTo = handedOver;
        }
      }
      if (nudge) {
        // Not on the exporting thread: the batch processor's flush in progress would answer.
        nudges.execute(() -> askBatch(RETRIES));
      }
      done.forEach(CompletableResultCode::succeed);
    }

    /**
     * Completes when every span ended so far, waiting ones included, went through an export
     * (successful or not), as the batch processor's own flush does.
     */
    @Override
    public CompletableResultCode forceFlush() {
      CompletableResultCode result = new CompletableResultCode();
      synchronized (this) {
        long target = handedOver + waiting.size();
        if (exported() >= target) {
          return CompletableResultCode.ofSuccess();
        }
        flushes.add(new Flush(target, result));
        askedUpTo = handedOver;
      }
      askBatch(RETRIES);
      return result;
    }

    /**
     * Asks the batch processor to flush. It answers a flush asked for while its previous flush is
     * still ending with that flush's result, which does not cover spans handed over since: the
     * window step's next piece, built the moment the previous piece's export completed, would then
     * wait for the batch processor's schedule ({@code otel.bsp.schedule.delay}, 5 s by default). So
     * when the answer comes with spans handed over by the ask still not exported, it asks again a
     * little later (a few times: an export that never completes must not keep it asking).
     */
    private void askBatch(int retries) {
      batch
          .forceFlush()
          .whenComplete(
              () -> {
                boolean again;
                synchronized (this) {
                  again = retries > 0 && !flushes.isEmpty() && exported() < askedUpTo;
                }
                if (again) {
                  try {
                    nudges.schedule(() -> askBatch(retries - 1), RETRY_MS, TimeUnit.MILLISECONDS);
                  } catch (RejectedExecutionException e) {
                    // shut down: the batch processor's shutdown exports what it holds
                  }
                }
              });
    }

    /**
     * Shuts the batch processor down, which exports what it holds; spans still waiting are lost
     * (the application's stop has waited for them in its flush).
     */
    @Override
    public CompletableResultCode shutdown() {
      int lost;
      synchronized (this) {
        lost = waiting.size();
        waiting.clear();
      }
      dropped.shutdownLost(lost);
      nudges.shutdown();
      return batch.shutdown();
    }
  }
}
