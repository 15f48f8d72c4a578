package io.linkcorrelator.streams;

import io.linkcorrelator.streams.propagation.TraceContextExtractor;
import io.linkcorrelator.streams.propagation.TraceFormats;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The {@link LinkedProcessorWrapper}'s settings, read from the configuration Kafka Streams hands
 * it: every error names the key and the accepted values.
 *
 * @param applicationId the Kafka Streams application id (part of the deterministic span ids)
 * @param tracer creates the aggregate spans
 * @param maxLinksPerSpan links per exported span at most
 * @param maxLinksJsonChars characters of the Datadog Agent's links JSON per span at most
 * @param extractor reads the contributors' trace contexts
 * @param injector writes the aggregate span's context into the result's headers
 * @param propagationHeaders every header name of every supported format, removed from a result's
 *     headers before the aggregate span's context is written
 */
record LinkSettings(
    String applicationId,
    Tracer tracer,
    int maxLinksPerSpan,
    int maxLinksJsonChars,
    TraceContextExtractor extractor,
    TextMapPropagator injector,
    List<String> propagationHeaders) {

  static final String INSTRUMENTATION_SCOPE = "io.linkcorrelator.streams";

  static LinkSettings from(Map<String, ?> configs) {
    Object applicationId = configs.get(StreamsConfig.APPLICATION_ID_CONFIG);
    if (applicationId == null || applicationId.toString().isBlank()) {
      throw new ConfigException(
          StreamsConfig.APPLICATION_ID_CONFIG
              + " is required by LinkedProcessorWrapper: pass the StreamsConfig to the"
              + " StreamsBuilder's TopologyConfig");
    }
    Object telemetry = configs.get(LinkedProcessorWrapper.OPEN_TELEMETRY_CONFIG);
    if (telemetry == null) {
      // The library never falls back to GlobalOpenTelemetry: spans would go wherever some other
      // code (or nothing) registered, silently.
      throw new ConfigException(
          LinkedProcessorWrapper.OPEN_TELEMETRY_CONFIG
              + " is required by LinkedProcessorWrapper: put your OpenTelemetry instance (the object)"
              + " into the Streams properties");
    }
    if (!(telemetry instanceof OpenTelemetry)) {
      throw new ConfigException(
          LinkedProcessorWrapper.OPEN_TELEMETRY_CONFIG,
          telemetry.getClass().getName(),
          "must be an io.opentelemetry.api.OpenTelemetry instance");
    }
    OpenTelemetry openTelemetry = (OpenTelemetry) telemetry;
    int maxLinks = intValue(configs, LinkedProcessorWrapper.LINKS_PER_SPAN_MAX_CONFIG, 128, 1);
    int maxJson =
        intValue(
            configs,
            LinkedProcessorWrapper.LINKS_JSON_MAX_CHARS_CONFIG,
            25_000,
            LinkBudget.MIN_JSON_CHARS);
    TraceContextExtractor extractor;
    TextMapPropagator injector;
    try {
      extractor =
          TraceFormats.extractor(
              text(
                  configs,
                  LinkedProcessorWrapper.TRACE_EXTRACT_CONFIG,
                  TraceFormats.DEFAULT_EXTRACT_ORDER));
      injector =
          TraceFormats.injector(
              text(
                  configs,
                  LinkedProcessorWrapper.TRACE_INJECT_CONFIG,
                  TraceFormats.DEFAULT_INJECT));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(
          e.getMessage().replace("correlator.trace.", LinkedProcessorWrapper.PREFIX + "trace."));
    }
    List<String> headers =
        List.copyOf(TraceFormats.injector("tracecontext,datadog,b3,b3multi,jaeger").fields());
    return new LinkSettings(
        applicationId.toString(),
        openTelemetry.getTracer(INSTRUMENTATION_SCOPE),
        maxLinks,
        maxJson,
        extractor,
        injector,
        headers);
  }

  /** Attributes on every span of one aggregation. */
  Attributes common(LinkedAggregation aggregation) {
    return Attributes.builder()
        .put("messaging.system", "kafka")
        .put("messaging.operation.type", "process")
        .put("messaging.operation.name", "aggregate")
        .put("messaging.consumer.group.name", applicationId)
        .put(AttributeKey.stringKey("correlator.processor"), aggregation.processor)
        .put("correlator.window.type", aggregation.kind.label())
        .build();
  }

  AggregateSpan.Shape shape(LinkedAggregation aggregation) {
    return new AggregateSpan.Shape(
        tracer,
        "aggregate " + aggregation.processor,
        common(aggregation),
        maxLinksPerSpan,
        maxLinksJsonChars);
  }

  private static String text(Map<String, ?> configs, String key, String otherwise) {
    Object value = configs.get(key);
    return value == null ? otherwise : value.toString();
  }

  private static int intValue(Map<String, ?> configs, String key, int otherwise, int least) {
    Object value = configs.get(key);
    if (value == null) {
      return otherwise;
    }
    int parsed;
    try {
      parsed =
          value instanceof Number number
              ? number.intValue()
              : Integer.parseInt(value.toString().trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(key, value, "must be a whole number of at least " + least);
    }
    if (parsed < least) {
      throw new ConfigException(key, value, "must be at least " + least);
    }
    return parsed;
  }
}
