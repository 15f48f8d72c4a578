package io.linkcorrelator.topology;

import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.schemas.WindowType;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The emission of one closed window: contributions are fed in one at a time (straight from the
 * contributor log), the summary is accumulated, and links are written out span by span as each
 * span's budget fills — the aggregate span takes the first share, child "chunk" spans the rest — so
 * memory is bounded by one span's links, never by the window.
 */
final class WindowEmission {

  private static final Logger LOG = LoggerFactory.getLogger(WindowEmission.class);

  static final AttributeKey<String> DESTINATION =
      AttributeKey.stringKey("messaging.destination.name");
  static final AttributeKey<String> PARTITION =
      AttributeKey.stringKey("messaging.destination.partition.id");
  static final AttributeKey<Long> OFFSET = AttributeKey.longKey("messaging.kafka.offset");
  static final AttributeKey<String> REASON = AttributeKey.stringKey("reason");
  static final AttributeKey<String> CONTEXT_HEADERS = AttributeKey.stringKey("context_headers");
  static final AttributeKey<Long> CHUNK_INDEX = AttributeKey.longKey("correlator.chunk.index");
  static final AttributeKey<String> GROUP_KEY = AttributeKey.stringKey("correlator.group_key");

  private static volatile boolean warnedRandomIds;

  private final Spans spans;
  private final String groupKey;
  private final long start;
  private final long end;
  private final long spanStartMs;
  private final DeterministicIds.WindowIds ids;
  private final LinkBudget budget;
  private final List<PendingLink> pending;

  private long count;
  private long linked;
  private long unlinked;
  private long valueCount;
  private double sum;
  private double min = Double.POSITIVE_INFINITY;
  private double max = Double.NEGATIVE_INFINITY;
  private long firstEventTime = Long.MAX_VALUE;
  private long lastEventTime = Long.MIN_VALUE;
  private long links;
  private int chunks;
  private Span aggregate;

  /** What a window's emission needs that does not change from window to window. */
  record Spans(Tracer tracer, CorrelatorConfig config, String spanName, Attributes common) {}

  private record PendingLink(SpanContext context, Attributes attributes) {}

  WindowEmission(Spans spans, String groupKey, long start, long end, long spanStartMs) {
    this.spans = spans;
    this.groupKey = groupKey;
    this.start = start;
    this.end = end;
    this.spanStartMs = spanStartMs;
    this.ids =
        DeterministicIds.forWindow(
            spans.config().applicationId(), groupKey, windowType().name(), start, end);
    this.budget =
        new LinkBudget(spans.config().maxLinksPerSpan(), spans.config().maxLinksJsonChars());
    this.pending = new ArrayList<>(Math.min(spans.config().maxLinksPerSpan(), 1024));
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
      link(context, attributes.build());
    }
  }

  private void link(TraceContext context, Attributes attributes) {
    if (!budget.tryTake(LinkBudget.jsonLength(context.traceState(), attributes))) {
      flush();
      budget.tryTake(LinkBudget.jsonLength(context.traceState(), attributes));
    }
    SpanContext linkedContext =
        SpanContext.createFromRemoteParent(
            context.ids().traceIdHex(),
            context.ids().spanIdHex(),
            TraceFlags.fromByte(context.ids().traceFlags()),
            TraceStates.decode(context.traceState()));
    pending.add(new PendingLink(linkedContext, attributes));
  }

  /** Writes the pending links out: on the aggregate span if it has not started, else a chunk. */
  private void flush() {
    if (aggregate == null) {
      startAggregate();
    } else {
      writeChunk();
    }
    links += pending.size();
    pending.clear();
    budget.reset();
  }

  private void startAggregate() {
    SpanBuilder builder =
        spans
            .tracer()
            .spanBuilder(spans.spanName())
            .setSpanKind(SpanKind.CONSUMER)
            .setNoParent()
            .setStartTimestamp(spanStartMs, TimeUnit.MILLISECONDS)
            .setAllAttributes(spans.common())
            .setAttribute(GROUP_KEY, groupKey);
    pending.forEach(link -> builder.addLink(link.context(), link.attributes()));
    aggregate = DeterministicIds.withIds(ids.traceId(), ids.spanId(), builder::startSpan);
    if (!aggregate.getSpanContext().getSpanId().equals(ids.spanId()) && !warnedRandomIds) {
      warnedRandomIds = true;
      LOG.warn(
          "the tracer provider does not use DeterministicIds.idGenerator(): aggregate spans get"
              + " random ids, and a replay after a crash exports them twice");
    }
  }

  private void writeChunk() {
    chunks++;
    SpanBuilder builder =
        spans
            .tracer()
            .spanBuilder(spans.spanName() + " links")
            .setSpanKind(SpanKind.INTERNAL)
            .setParent(Context.root().with(aggregate))
            .setAllAttributes(spans.common())
            .setAttribute(GROUP_KEY, groupKey)
            .setAttribute(CHUNK_INDEX, (long) chunks);
    pending.forEach(link -> builder.addLink(link.context(), link.attributes()));
    Span chunk = DeterministicIds.withIds(null, ids.chunkSpanId(chunks), builder::startSpan);
    chunk.end();
  }

  /** Ends the spans and returns the result; call once, after the last {@link #add}. */
  Finished finish(long nowMs) {
    if (aggregate == null || !pending.isEmpty()) {
      flush();
    }
    Instant windowStart = Instant.ofEpochMilli(start);
    Instant windowEnd = Instant.ofEpochMilli(end);
    String type = windowType().name().toLowerCase(Locale.ROOT);
    aggregate.setAllAttributes(
        Attributes.builder()
            .put("messaging.batch.message_count", count)
            .put("correlator.window.start", windowStart.toString())
            .put("correlator.window.end", windowEnd.toString())
            .put("correlator.window.start_ms", start)
            .put("correlator.window.end_ms", end)
            .put("correlator.window.type", type)
            .put("correlator.links.total", links)
            .put("correlator.links.linked", linked)
            .put("correlator.links.unlinked", unlinked)
            .put("correlator.links.chunks", (long) chunks)
            .build());
    aggregate.end(nowMs, TimeUnit.MILLISECONDS);
    // A no-op tracer (tracing disabled, or a provider already shut down) gives an invalid context:
    // the result still names the window's deterministic span, never all-zero ids.
    SpanContext context =
        aggregate.getSpanContext().isValid()
            ? aggregate.getSpanContext()
            : SpanContext.create(
                ids.traceId(), ids.spanId(), TraceFlags.getSampled(), TraceState.getDefault());
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
    return new Finished(result, Span.wrap(context), links, chunks);
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
