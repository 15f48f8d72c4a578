package io.linkcorrelator.streams;

import io.linkcorrelator.schemas.WindowResult;
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

/**
 * The emission of one closed window: contributions are fed in one at a time (straight from the
 * contributor log), the summary is accumulated, and each contributor's contexts are linked on the
 * window's {@link AggregateSpan}, which writes links out span by span as budgets fill.
 */
final class WindowEmission {

  static final AttributeKey<String> DESTINATION =
      AttributeKey.stringKey("messaging.destination.name");
  static final AttributeKey<String> PARTITION =
      AttributeKey.stringKey("messaging.destination.partition.id");
  static final AttributeKey<Long> OFFSET = AttributeKey.longKey("messaging.kafka.offset");
  static final AttributeKey<String> REASON = AttributeKey.stringKey("reason");
  static final AttributeKey<String> CONTEXT_HEADERS = AttributeKey.stringKey("context_headers");

  private final Spans spans;
  private final String groupKey;
  private final long start;
  private final long end;
  private final AggregateSpan span;

  private long count;
  private long linked;
  private long unlinked;
  private long valueCount;
  private double sum;
  private double min = Double.POSITIVE_INFINITY;
  private double max = Double.NEGATIVE_INFINITY;
  private long firstEventTime = Long.MAX_VALUE;
  private long lastEventTime = Long.MIN_VALUE;

  /** What a window's emission needs that does not change from window to window. */
  record Spans(Tracer tracer, CorrelatorConfig config, String spanName, Attributes common) {

    AggregateSpan.Shape shape() {
      return new AggregateSpan.Shape(
          tracer, spanName, common, config.maxLinksPerSpan(), config.maxLinksJsonChars());
    }
  }

  WindowEmission(Spans spans, String groupKey, long start, long end, long spanStartMs) {
    this.spans = spans;
    this.groupKey = groupKey;
    this.start = start;
    this.end = end;
    DeterministicIds.WindowIds ids =
        DeterministicIds.forWindow(
            spans.config().applicationId(), groupKey, windowType().name(), start, end);
    this.span = new AggregateSpan(spans.shape(), groupKey, ids, spanStartMs);
  }

  private WindowType windowType() {
    return spans.config().window().type();
  }

  void add(Contribution contribution) {
    count++;
    firstEventTime = Math.min(firstEventTime, contribution.timestamp());
    lastEventTime = Math.max(lastEventTime, contribution.timestamp());
    if (contribution.hasValue()) {
      valueCount++;
      sum += contribution.value();
      min = Math.min(min, contribution.value());
      max = Math.max(max, contribution.value());
    }
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
  Finished finish(long nowMs) {
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
    boolean hasValues = valueCount > 0;
    java.util.Set<String> functions = spans.config().aggregateFunctions();
    WindowResult result =
        WindowResult.newBuilder()
            .setGroupKey(groupKey)
            .setWindowStart(windowStart)
            .setWindowEnd(windowEnd)
            .setWindowType(windowType())
            .setMessageCount(count)
            .setFirstEventTime(Instant.ofEpochMilli(firstEventTime))
            .setLastEventTime(Instant.ofEpochMilli(lastEventTime))
            .setAggregateField(spans.config().aggregateField())
            .setSum(hasValues && functions.contains("sum") ? sum : null)
            .setMin(hasValues && functions.contains("min") ? min : null)
            .setMax(hasValues && functions.contains("max") ? max : null)
            .setLinkedCount(linked)
            .setUnlinkedCount(unlinked)
            .setTraceId(context.getTraceId())
            .setSpanId(context.getSpanId())
            .build();
    return new Finished(result, Span.wrap(context), span.links(), span.chunks());
  }

  /**
   * A finished emission.
   *
   * @param result the output record's value
   * @param aggregate the ended aggregate span, whose context goes into the output headers
   * @param links links written across the aggregate and chunk spans
   * @param chunks chunk spans written
   */
  record Finished(WindowResult result, Span aggregate, long links, int chunks) {}

  long count() {
    return count;
  }
}
