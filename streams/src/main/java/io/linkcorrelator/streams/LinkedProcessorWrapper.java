package io.linkcorrelator.streams;

import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.streams.errors.TopologyException;
import org.apache.kafka.streams.kstream.internals.KTableAggregate;
import org.apache.kafka.streams.kstream.internals.KTableReduce;
import org.apache.kafka.streams.kstream.internals.suppress.KTableSuppressProcessorSupplier;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorSupplier;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.ProcessorWrapper;
import org.apache.kafka.streams.processor.api.WrappedFixedKeyProcessorSupplier;
import org.apache.kafka.streams.processor.api.WrappedProcessorSupplier;
import org.apache.kafka.streams.state.StoreBuilder;

/**
 * Links an existing DSL topology's aggregations to their contributors by configuration alone (Kafka
 * Streams' processor wrapper, KIP-1112): each result of a windowed {@code count}, {@code aggregate}
 * or {@code reduce} gets an OpenTelemetry aggregate span with a link to the span of every record
 * that contributed (in chunk spans beyond the link budget, with deterministic ids), and the result
 * record the downstream processors see carries that span's context in its headers.
 *
 * <pre>{@code
 * props.put(StreamsConfig.PROCESSOR_WRAPPER_CLASS_CONFIG, LinkedProcessorWrapper.class);
 * props.put(LinkedProcessorWrapper.OPEN_TELEMETRY_CONFIG, openTelemetry);
 * StreamsBuilder builder = new StreamsBuilder(new TopologyConfig(new StreamsConfig(props)));
 * }</pre>
 *
 * <p>Linked shapes: windowed aggregations (tumbling, hopping, sliding, session) that emit final
 * results, by {@code emitStrategy(EmitStrategy.onWindowClose())} or by a {@code
 * suppress(Suppressed.untilWindowCloses(...))} right after them (one span per final result, linked
 * to every contributor); tumbling and session windowed and non-windowed {@code KGroupedStream}
 * aggregations that forward every update (one span per update, linked to the records folded in
 * since the previous update of that key and window). Any other aggregation — a KTable aggregation
 * with a subtractor, a cogrouped aggregation, hopping or sliding windows that forward updates, an
 * aggregation under {@code suppress(untilTimeLimit(...))} — fails the topology build with a {@link
 * TopologyException} that names the processor and lists the shapes above; processors that are not
 * aggregations are left as they are.
 *
 * <p>The contributors' trace contexts are kept in one state store per aggregation ({@code
 * <processor>-link-contributors}, changelogged): one or two puts per record, and entries leave once
 * no result can link them any more (see {@code Contributors}).
 *
 * <p>The wrapper reads a few fields of Kafka Streams' DSL classes that their public types do not
 * show (emit strategy, store name, the suppress's definition); a Kafka Streams version without them
 * fails the build with a message that says so.
 */
public final class LinkedProcessorWrapper implements ProcessorWrapper {

  /** Prefix of the wrapper's configuration keys: {@value}. */
  public static final String PREFIX = "link.correlator.";

  /**
   * An {@code io.opentelemetry.api.OpenTelemetry} instance (an object, not a class name) whose
   * tracer creates the aggregate spans. Required: the library never uses {@code
   * GlobalOpenTelemetry}. Install {@code DeterministicIds.idGenerator()} in its tracer provider for
   * replay-stable span ids.
   */
  public static final String OPEN_TELEMETRY_CONFIG = PREFIX + "opentelemetry";

  /** Most links on one exported span; the rest go into chunk spans. Default 128, at least 1. */
  public static final String LINKS_PER_SPAN_MAX_CONFIG = PREFIX + "links.per.span.max";

  /**
   * Most characters of the Datadog Agent's {@code _dd.span_links} JSON per span. Default 25000, at
   * least 2000.
   */
  public static final String LINKS_JSON_MAX_CHARS_CONFIG = PREFIX + "links.json.max.chars";

  /**
   * Trace-context formats read from the contributors' headers, in order. Default {@code
   * tracecontext,datadog,b3,jaeger}.
   */
  public static final String TRACE_EXTRACT_CONFIG = PREFIX + "trace.extract";

  /**
   * Styles in which the aggregate span's context is written into the result's headers. Default
   * {@code tracecontext}; also {@code datadog}, {@code b3}, {@code b3multi}, {@code jaeger}.
   */
  public static final String TRACE_INJECT_CONFIG = PREFIX + "trace.inject";

  private LinkSettings settings;
  private final Map<Object, LinkedAggregation> aggregations = new IdentityHashMap<>();
  private final Map<String, String> dslStores = new HashMap<>();

  /** Kafka Streams creates the wrapper by class name. */
  public LinkedProcessorWrapper() {}

  /**
   * Reads the settings from the topology's configuration (the originals of the {@code
   * TopologyConfig}, objects included).
   *
   * @param configs the configuration; {@code application.id} is required
   * @throws org.apache.kafka.common.config.ConfigException naming the key of a bad value
   */
  @Override
  public void configure(Map<String, ?> configs) {
    settings = LinkSettings.from(configs);
  }

  /**
   * Wraps a DSL aggregation of a supported shape, and a {@code suppress} right after one; returns
   * every other processor unchanged.
   *
   * @throws TopologyException for an aggregation of a shape that cannot be linked
   */
  @Override
  public <KIn, VIn, KOut, VOut>
      WrappedProcessorSupplier<KIn, VIn, KOut, VOut> wrapProcessorSupplier(
          String processorName, ProcessorSupplier<KIn, VIn, KOut, VOut> supplier) {
    if (settings == null) {
      throw new IllegalStateException("LinkedProcessorWrapper used before configure()");
    }
    if (supplier instanceof KTableAggregate<?, ?, ?> || supplier instanceof KTableReduce<?, ?>) {
      throw LinkedAggregation.unsupported(
          processorName,
          "a KTable aggregation (KGroupedTable aggregate/reduce/count, with a subtractor)");
    }
    LinkedAggregation aggregation = LinkedAggregation.of(processorName, supplier);
    if (aggregation != null) {
      String sharing = dslStores.putIfAbsent(aggregation.dslStore, processorName);
      if (sharing != null) {
        throw LinkedAggregation.unsupported(
            processorName,
            "a cogrouped aggregation (it shares store "
                + aggregation.dslStore
                + " with "
                + sharing
                + ")");
      }
      aggregations.put(supplier, aggregation);
      return new Linked<>(supplier, aggregation, LinkingProcessor.Role.AGGREGATION, settings);
    }
    if (supplier instanceof KTableSuppressProcessorSupplier<?, ?>) {
      return suppress(processorName, supplier);
    }
    return ProcessorWrapper.asWrapped(supplier);
  }

  private <KIn, VIn, KOut, VOut> WrappedProcessorSupplier<KIn, VIn, KOut, VOut> suppress(
      String processorName, ProcessorSupplier<KIn, VIn, KOut, VOut> supplier) {
    Object parent = DslInternals.parentSupplier(supplier);
    LinkedAggregation aggregation = parent == null ? null : aggregations.get(parent);
    if (aggregation == null) {
      for (Object above = parent; above != null; above = DslInternals.parentSupplier(above)) {
        LinkedAggregation ancestor = aggregations.get(above);
        if (ancestor != null) {
          throw LinkedAggregation.unsupported(
              processorName,
              "a suppress that does not follow the linked aggregation "
                  + ancestor.processor
                  + " directly (a KTable filter/mapValues in between)");
        }
      }
      return ProcessorWrapper.asWrapped(supplier); // not after an aggregation we link
    }
    if (!DslInternals.suppressesUntilWindowCloses(processorName, supplier)) {
      throw LinkedAggregation.unsupported(
          processorName,
          "suppress(untilTimeLimit(...)) after the aggregation "
              + aggregation.processor
              + " (the updates it drops would leave their records unlinked)");
    }
    aggregation.suppressedUntilWindowCloses();
    return new Linked<>(supplier, aggregation, LinkingProcessor.Role.SUPPRESS, settings);
  }

  /**
   * Returns the supplier unchanged: no DSL aggregation is a fixed-key processor.
   *
   * @return the supplier, as Kafka Streams' no-op wrapper would
   */
  @Override
  public <KIn, VIn, VOut>
      WrappedFixedKeyProcessorSupplier<KIn, VIn, VOut> wrapFixedKeyProcessorSupplier(
          String processorName, FixedKeyProcessorSupplier<KIn, VIn, VOut> supplier) {
    return ProcessorWrapper.asWrappedFixedKey(supplier);
  }

  /** A wrapped aggregation or suppress: the DSL's processor inside a {@link LinkingProcessor}. */
  private static final class Linked<KIn, VIn, KOut, VOut>
      implements WrappedProcessorSupplier<KIn, VIn, KOut, VOut> {

    private final ProcessorSupplier<KIn, VIn, KOut, VOut> dsl;
    private final LinkedAggregation aggregation;
    private final LinkingProcessor.Role role;
    private final LinkSettings settings;

    Linked(
        ProcessorSupplier<KIn, VIn, KOut, VOut> dsl,
        LinkedAggregation aggregation,
        LinkingProcessor.Role role,
        LinkSettings settings) {
      this.dsl = dsl;
      this.aggregation = aggregation;
      this.role = role;
      this.settings = settings;
    }

    /**
     * A new wrapped processor. Whether the aggregation can be linked depends on what follows it (a
     * suppress is wrapped after it), so the shape is checked when Kafka Streams builds the
     * processors of the finished topology ({@code new KafkaStreams(...)}, {@code new
     * TopologyTestDriver(...)}), not in the supplier check while the topology is being written.
     */
    @Override
    public Processor<KIn, VIn, KOut, VOut> get() {
      String unsupported = aggregation.unsupportedShape();
      if (unsupported != null && !whileWriting()) {
        throw LinkedAggregation.unsupported(aggregation.processor, unsupported);
      }
      return new LinkingProcessor<>(dsl.get(), aggregation, role, settings);
    }

    @Override
    public Set<StoreBuilder<?>> stores() {
      Set<StoreBuilder<?>> stores = new HashSet<>();
      if (dsl.stores() != null) {
        stores.addAll(dsl.stores());
      }
      stores.add(aggregation.contributorStore());
      return stores;
    }

    /** Whether Kafka Streams is checking the supplier while it adds it to the topology. */
    private static boolean whileWriting() {
      return StackWalker.getInstance()
          .walk(
              frames ->
                  frames.anyMatch(
                      frame ->
                          frame
                              .getClassName()
                              .equals("org.apache.kafka.streams.internals.ApiUtils")));
    }
  }
}
