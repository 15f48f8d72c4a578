package io.linkcorrelator.streams;

import io.linkcorrelator.streams.propagation.TraceContext;
import io.linkcorrelator.streams.propagation.TraceStates;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spans of one result: an aggregate span linked to every contributor, links fed in one at a
 * time and written out span by span as each span's budget fills — the aggregate span takes the
 * first share, child "chunk" spans the rest — so memory is bounded by one span's links, never by
 * the number of contributors. Ids are deterministic ({@link DeterministicIds.WindowIds}).
 */
final class AggregateSpan {

  private static final Logger LOG = LoggerFactory.getLogger(AggregateSpan.class);

  static final AttributeKey<Long> CHUNK_INDEX = AttributeKey.longKey("correlator.chunk.index");
  static final AttributeKey<Long> LINKS_TOTAL = AttributeKey.longKey("correlator.links.total");
  static final AttributeKey<Long> LINKS_CHUNKS = AttributeKey.longKey("correlator.links.chunks");
  static final AttributeKey<String> GROUP_KEY = AttributeKey.stringKey("correlator.group_key");

  private static volatile boolean warnedRandomIds;

  /**
   * What the spans of every result share.
   *
   * @param tracer creates the spans
   * @param name the aggregate span's name (chunk spans: name + " links")
   * @param common attributes on every span
   * @param maxLinksPerSpan links per span at most
   * @param maxLinksJsonChars JSON characters of links per span at most (0 = no limit)
   */
  record Shape(
      Tracer tracer, String name, Attributes common, int maxLinksPerSpan, int maxLinksJsonChars) {}

  private record PendingLink(SpanContext context, Attributes attributes) {}

  private final Shape shape;
  private final String groupKey;
  private final long startMs;
  private final DeterministicIds.WindowIds ids;
  private final LinkBudget budget;
  private final List<PendingLink> pending;

  private long links;
  private int chunks;
  private Span aggregate;

  AggregateSpan(Shape shape, String groupKey, DeterministicIds.WindowIds ids, long startMs) {
    this.shape = shape;
    this.groupKey = groupKey;
    this.ids = ids;
    this.startMs = startMs;
    this.budget = new LinkBudget(shape.maxLinksPerSpan(), shape.maxLinksJsonChars());
    this.pending = new ArrayList<>(Math.min(shape.maxLinksPerSpan(), 1024));
  }

  /** Links a contributor's context, writing out a span when the budget is full. */
  void link(TraceContext context, Attributes attributes) {
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
        shape
            .tracer()
            .spanBuilder(shape.name())
            .setSpanKind(SpanKind.CONSUMER)
            .setNoParent()
            .setStartTimestamp(startMs, TimeUnit.MILLISECONDS)
            .setAllAttributes(shape.common())
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
        shape
            .tracer()
            .spanBuilder(shape.name() + " links")
            .setSpanKind(SpanKind.INTERNAL)
            .setParent(Context.root().with(aggregate))
            .setAllAttributes(shape.common())
            .setAttribute(GROUP_KEY, groupKey)
            .setAttribute(CHUNK_INDEX, (long) chunks);
    pending.forEach(link -> builder.addLink(link.context(), link.attributes()));
    Span chunk = DeterministicIds.withIds(null, ids.chunkSpanId(chunks), builder::startSpan);
    chunk.end();
  }

  /**
   * Writes the last links, ends the aggregate span with {@code attributes} (and {@code
   * correlator.links.total}, {@code correlator.links.chunks}) and returns its context. Call once,
   * after the last {@link #link}. A no-op tracer (tracing disabled, or a provider already shut
   * down) gives an invalid context: the result still names the deterministic span, never all-zero
   * ids.
   */
  SpanContext end(Attributes attributes, long nowMs) {
    if (aggregate == null || !pending.isEmpty()) {
      flush();
    }
    aggregate.setAllAttributes(attributes);
    aggregate.setAttribute(LINKS_TOTAL, links);
    aggregate.setAttribute(LINKS_CHUNKS, (long) chunks);
    aggregate.end(nowMs, TimeUnit.MILLISECONDS);
    return aggregate.getSpanContext().isValid()
        ? aggregate.getSpanContext()
        : SpanContext.create(
            ids.traceId(), ids.spanId(), TraceFlags.getSampled(), TraceState.getDefault());
  }

  /** Links written so far across the aggregate and chunk spans (all of them after {@link #end}). */
  long links() {
    return links;
  }

  /** Chunk spans written so far. */
  int chunks() {
    return chunks;
  }
}
