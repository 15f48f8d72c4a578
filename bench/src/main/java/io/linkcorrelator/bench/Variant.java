package io.linkcorrelator.bench;

import io.linkcorrelator.app.CorrelatorConfig;
import io.linkcorrelator.app.CorrelatorTopology;
import io.linkcorrelator.schemas.WindowType;
import io.linkcorrelator.streams.WindowSpec;
import io.linkcorrelator.streams.propagation.TraceFormats;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.WindowedSerdes;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.WindowStore;

/** The three things measured: the floor, what most people would write, and the correlator. */
enum Variant {
  /** A: a plain DSL windowed count, RocksDB store, caching as default, no tracing. */
  BASELINE("A baseline"),
  /**
   * B: a DSL windowed aggregate that appends each record's traceparent to the aggregate value
   * (rewritten on every record) and, when the window closes, builds one span linking them all.
   */
  NAIVE("B naive"),
  /** C: the correlator. */
  CORRELATOR("C correlator");

  static final String INPUT = "in";
  static final String OUTPUT = "out";

  final String label;

  Variant(String label) {
    this.label = label;
  }

  Topology topology(OpenTelemetry openTelemetry, long windowMs) {
    TimeWindows windows = TimeWindows.ofSizeAndGrace(Duration.ofMillis(windowMs), Duration.ZERO);
    StreamsBuilder builder = new StreamsBuilder();
    switch (this) {
      case BASELINE ->
          builder.stream(INPUT, Consumed.with(Serdes.String(), Serdes.ByteArray()))
              .groupByKey(Grouped.with(Serdes.String(), Serdes.ByteArray()))
              .windowedBy(windows)
              .count(Materialized.as("counts"))
              .toStream()
              .to(
                  OUTPUT,
                  Produced.with(
                      WindowedSerdes.timeWindowedSerdeFrom(String.class, windowMs), Serdes.Long()));
      case NAIVE -> {
        Tracer tracer = openTelemetry.getTracer("naive");
        builder.stream(INPUT, Consumed.with(Serdes.String(), Serdes.ByteArray()))
            .processValues(TraceparentOf::new)
            .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
            .windowedBy(windows)
            .aggregate(
                () -> "",
                (key, traceparent, list) ->
                    list.isEmpty() ? traceparent : list + "\n" + traceparent,
                Materialized.<String, String, WindowStore<Bytes, byte[]>>as("traceparents")
                    .withKeySerde(Serdes.String())
                    .withValueSerde(Serdes.String()))
            .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
            .toStream()
            .mapValues((window, list) -> linkAll(tracer, list))
            .to(
                OUTPUT,
                Produced.with(
                    WindowedSerdes.timeWindowedSerdeFrom(String.class, windowMs), Serdes.Long()));
      }
      case CORRELATOR -> {
        return CorrelatorTopology.build(
            CorrelatorConfig.builder()
                .applicationId("bench")
                .inputTopics(INPUT)
                .outputTopic(OUTPUT)
                .window(new WindowSpec(WindowType.TUMBLING, windowMs, windowMs, 0, 0))
                .extractor(TraceFormats.extractor("tracecontext"))
                .maxFutureMs(Long.MAX_VALUE / 2)
                .build(),
            openTelemetry);
      }
      default -> throw new IllegalStateException(name());
    }
    return builder.build();
  }

  /** The naive emission: one span with a link per traceparent in the list. */
  private static long linkAll(Tracer tracer, String list) {
    SpanBuilder span = tracer.spanBuilder("aggregate").setSpanKind(SpanKind.CONSUMER).setNoParent();
    long links = 0;
    for (String traceparent : list.split("\n")) {
      String[] fields = traceparent.split("-");
      if (fields.length == 4) {
        span.addLink(
            SpanContext.createFromRemoteParent(
                fields[1], fields[2], TraceFlags.getSampled(), TraceState.getDefault()));
        links++;
      }
    }
    Span started = span.startSpan();
    started.end();
    return links;
  }

  /** The record's traceparent header as its value (what the naive aggregate collects). */
  private static final class TraceparentOf implements FixedKeyProcessor<String, byte[], String> {
    private FixedKeyProcessorContext<String, String> context;

    @Override
    public void init(FixedKeyProcessorContext<String, String> context) {
      this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<String, byte[]> record) {
      Header header = record.headers().lastHeader("traceparent");
      context.forward(
          record.withValue(
              header == null ? "" : new String(header.value(), StandardCharsets.UTF_8)));
    }
  }
}
