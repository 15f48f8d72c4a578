package io.linkcorrelator.streams;

import io.linkcorrelator.schemas.WindowType;
import io.linkcorrelator.streams.propagation.TraceContext;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.Tracer;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The emission of one closed window: contributions are fed in one at a time (straight from the
 * contributor log, in event-time order), counted, folded by the window's {@link WindowFold} into
 * its result, and each contributor's contexts are linked on the window's {@link AggregateSpan},
 * which writes links out span by span as budgets fill.
 *
 * @param <K> the result's key
 * @param <V> the result's value
 */
final class WindowEmission<K, V> {

  static final AttributeKey<String> DESTINATION =
      AttributeKey.stringKey("messaging.destination.name");
  static final AttributeKey<String> PARTITION =
      AttributeKey.stringKey("messaging.destination.partition.id");
  static final AttributeKey<Long> OFFSET = AttributeKey.longKey("messaging.kafka.offset");
  static final AttributeKey<String> REASON = AttributeKey.stringKey("reason");
  static final AttributeKey<String> CONTEXT_HEADERS = AttributeKey.stringKey("context_headers");

  static final AttributeKey<String> CONSUMER_GROUP =
      AttributeKey.stringKey("messaging.consumer.group.name");

  private final TaskSpans spans;
  private final String groupKey;
  private final long start;
  private final long end;
  private final AggregateSpan span;
  private final WindowFold<K, V> fold;

  private long count;
  private long linked;
  private long unlinked;
  private long firstEventTime = Long.MAX_VALUE;
  private long lastEventTime = Long.MIN_VALUE;

  /**
   * What a window's emission needs that does not change from window to window, as the topology is
   * built.
   *
   * @param tracer creates the spans
   * @param window the window rules
   * @param options the link budgets
   * @param spanName the aggregate span's name (chunk spans: name + " links")
   * @param common attributes on every span
   */
  record Spans(
      Tracer tracer, WindowSpec window, LinkOptions options, String spanName, Attributes common) {

    /**
     * The spans of one task, once its application id is known: the consumer group in the
     * attributes, and part of the deterministic ids.
     */
    TaskSpans forApplication(String applicationId) {
      return new TaskSpans(
          window,
          applicationId,
          new AggregateSpan.Shape(
              tracer,
              spanName,
              common.toBuilder().put(CONSUMER_GROUP, applicationId).build(),
              options.maxLinksPerSpan(),
              options.maxLinksJsonChars()));
    }
  }

  /**
   * The spans of one task ({@link Spans#forApplication}).
   *
   * @param window the window rules
   * @param applicationId the Kafka Streams application id
   * @param shape what every aggregate span of the task shares
   */
  record TaskSpans(WindowSpec window, String applicationId, AggregateSpan.Shape shape) {}

  WindowEmission(
      TaskSpans spans,
      String groupKey,
      long start,
      long end,
      long spanStartMs,
      WindowFold<K, V> fold) {
    this.spans = spans;
    this.groupKey = groupKey;
    this.start = start;
    this.end = end;
    this.fold = fold;
    DeterministicIds.WindowIds ids =
        DeterministicIds.forWindow(
            spans.applicationId(), groupKey, windowType().name(), start, end);
    this.span = new AggregateSpan(spans.shape(), groupKey, ids, spanStartMs);
  }

  private WindowType windowType() {
    return spans.window().type();
  }

  void add(Contribution contribution) {
    count++;
    firstEventTime = Math.min(firstEventTime, contribution.timestamp());
    lastEventTime = Math.max(lastEventTime, contribution.timestamp());
    fold.add(contribution);
    if (!contribution.linked()) {
      unlinked++;
      return;
    }
    linked++;
    List<TraceContext> contexts = contribution.contexts();
    for (int i = 0; i < contexts.size(); i++) {
      TraceContext context = contexts.get(i);
      AttributesBuilder attributes =
          Attributes.builder()
              .put(DESTINATION, contribution.topic())
              .put(PARTITION, Integer.toString(contribution.partition()))
              .put(OFFSET, contribution.offset());
      if (i > 0) {
        attributes.put(REASON, "terminated_context").put(CONTEXT_HEADERS, context.format());
      }
      span.link(context, attributes.build());
    }
  }

  /** Ends the spans and returns the result; call once, after the last {@link #add}. */
  Finished<K, V> finish(long nowMs) {
    Instant windowStart = Instant.ofEpochMilli(start);
    Instant windowEnd = Instant.ofEpochMilli(end);
    String type = windowType().name().toLowerCase(Locale.ROOT);
    SpanContext context =
        span.end(
            Attributes.builder()
                .put("messaging.batch.message_count", count)
                .put("correlator.window.start", windowStart.toString())
                .put("correlator.window.end", windowEnd.toString())
                .put("correlator.window.start_ms", start)
                .put("correlator.window.end_ms", end)
                .put("correlator.window.type", type)
                .put("correlator.links.linked", linked)
                .put("correlator.links.unlinked", unlinked)
                .build(),
            nowMs);
    Record<K, V> result =
        fold.result(
            new WindowFold.Summary(
                groupKey,
                spans.window(),
                start,
                end,
                count,
                linked,
                unlinked,
                firstEventTime,
                lastEventTime,
                context));
    return new Finished<>(result, Span.wrap(context), count, span.links(), span.chunks());
  }

  /**
   * A finished emission.
   *
   * @param result the output record, its headers still to be set
   * @param aggregate the ended aggregate span, whose context goes into the output headers
   * @param count contributors
   * @param links links written across the aggregate and chunk spans
   * @param chunks chunk spans written
   */
  record Finished<K, V>(Record<K, V> result, Span aggregate, long count, long links, int chunks) {}

  long count() {
    return count;
  }
}
