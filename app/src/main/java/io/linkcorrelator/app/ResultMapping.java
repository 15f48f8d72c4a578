package io.linkcorrelator.app;

import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.schemas.WindowType;
import io.linkcorrelator.streams.WindowSpec;
import io.linkcorrelator.streams.propagation.KafkaHeadersGetter;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.time.Instant;
import java.util.Set;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The application's last step: a window's {@link WindowSummary} into a {@link WindowResult} keyed
 * by the group key, the aggregate span's trace id and span id read back from the headers the linked
 * aggregation wrote (in the configured inject formats). The record keeps those headers and its
 * timestamp (the window's latest event time).
 */
final class ResultMapping
    implements Processor<Windowed<String>, WindowSummary, String, WindowResult> {

  private final WindowSpec window;
  private final String aggregateField;
  private final Set<String> functions;
  private final TextMapPropagator injector;
  private ProcessorContext<String, WindowResult> context;

  ResultMapping(CorrelatorConfig config) {
    this.window = config.window();
    this.aggregateField = config.aggregateField();
    this.functions = config.aggregateFunctions();
    this.injector = config.injector();
  }

  @Override
  public void init(ProcessorContext<String, WindowResult> context) {
    this.context = context;
  }

  @Override
  public void process(Record<Windowed<String>, WindowSummary> record) {
    WindowSummary summary = record.value();
    long start = record.key().window().start();
    // Kafka Streams' sliding and session windows end inclusive; the result's end is exclusive.
    long end =
        window.type() == WindowType.SLIDING || window.type() == WindowType.SESSION
            ? record.key().window().end() + 1
            : record.key().window().end();
    SpanContext aggregate =
        Span.fromContext(
                injector.extract(Context.root(), record.headers(), KafkaHeadersGetter.INSTANCE))
            .getSpanContext();
    boolean hasValues = summary.hasValues();
    WindowResult result =
        WindowResult.newBuilder()
            .setGroupKey(record.key().key())
            .setWindowStart(Instant.ofEpochMilli(start))
            .setWindowEnd(Instant.ofEpochMilli(end))
            .setWindowType(window.type())
            .setMessageCount(summary.count())
            .setFirstEventTime(Instant.ofEpochMilli(summary.firstEventTime()))
            .setLastEventTime(Instant.ofEpochMilli(summary.lastEventTime()))
            .setAggregateField(aggregateField)
            .setSum(hasValues && functions.contains("sum") ? summary.sum() : null)
            .setMin(hasValues && functions.contains("min") ? summary.min() : null)
            .setMax(hasValues && functions.contains("max") ? summary.max() : null)
            .setLinkedCount(summary.linked())
            .setUnlinkedCount(summary.unlinked())
            .setTraceId(aggregate.getTraceId())
            .setSpanId(aggregate.getSpanId())
            .build();
    context.forward(record.withKey(record.key().key()).withValue(result));
  }
}
