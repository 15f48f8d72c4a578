package io.linkcorrelator.streams.propagation;

import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Headers;

/**
 * The trace-context formats by name, and the extraction policy over them (P1 of {@code
 * docs/trace-context-policy.md}).
 *
 * <p>Formats: {@code tracecontext} (W3C), {@code datadog}, {@code b3} (single header, then {@code
 * X-B3-*}), {@code jaeger}; for injection also {@code b3multi} (the {@code X-B3-*} headers).
 */
public final class TraceFormats {

  /** The application's default extraction order: {@value}. */
  public static final String DEFAULT_EXTRACT_ORDER = "tracecontext,datadog,b3,jaeger";

  /** The default injection style: {@value}. */
  public static final String DEFAULT_INJECT = "tracecontext";

  private static final Map<String, HeaderFormat> FORMATS = new LinkedHashMap<>();

  static {
    for (HeaderFormat format :
        List.of(
            W3cFormat.INSTANCE, DatadogFormat.INSTANCE, B3Format.SINGLE, JaegerFormat.INSTANCE)) {
      FORMATS.put(format.name(), format);
    }
  }

  private TraceFormats() {}

  /**
   * An extractor that tries the formats in order. The first valid context is the primary. When the
   * primary is datadog and tracecontext later gives the same 128-bit trace id, the traceparent's
   * span id (and tracestate) replace the datadog parent id, sampling still from datadog. A later
   * valid context with a different trace id is linked too, as a terminated context; one with the
   * same trace id changes nothing else. Formats not in the order are ignored.
   *
   * @param order comma-separated format names, e.g. {@value #DEFAULT_EXTRACT_ORDER}
   * @return the extractor
   * @throws IllegalArgumentException naming {@code correlator.trace.extract} and the accepted
   *     values
   */
  public static TraceContextExtractor extractor(String order) {
    List<HeaderFormat> formats = parse(order, "correlator.trace.extract", FORMATS);
    return headers -> extract(formats, headers);
  }

  /**
   * A propagator that writes the aggregate span's context in each of the given styles.
   *
   * @param styles comma-separated: {@code tracecontext}, {@code datadog}, {@code b3}, {@code
   *     b3multi}, {@code jaeger}
   * @return the propagator
   * @throws IllegalArgumentException naming {@code correlator.trace.inject} and the accepted values
   */
  public static TextMapPropagator injector(String styles) {
    Map<String, HeaderFormat> injectable = new LinkedHashMap<>(FORMATS);
    injectable.put(B3Format.MULTI.name(), B3Format.MULTI);
    return TextMapPropagator.composite(
        List.<TextMapPropagator>copyOf(parse(styles, "correlator.trace.inject", injectable)));
  }

  static List<TraceContext> extract(List<HeaderFormat> formats, Headers headers) {
    HeaderIndex index = HeaderIndex.of(headers); // one pass over the headers for every format
    TraceContext primary = null;
    List<TraceContext> contexts = new ArrayList<>(2);
    for (HeaderFormat format : formats) {
      TraceContext found = read(format, index);
      if (found == null) {
        continue;
      }
      if (primary == null) {
        primary = found;
        contexts.add(found);
      } else if (found.sameTrace(primary)) {
        if (primary.format().equals("datadog") && found.format().equals("tracecontext")) {
          primary = primary.withSpan(found.ids().spanId(), found.traceState());
          contexts.set(0, primary);
        }
      } else if (contexts.stream().noneMatch(c -> c.ids().equals(found.ids()))) {
        contexts.add(found);
      }
    }
    return contexts;
  }

  private static TraceContext read(HeaderFormat format, HeaderIndex headers) {
    try {
      return format.read(headers, HeaderIndex.GETTER);
    } catch (RuntimeException e) {
      return null; // never throw on header bytes: an unreadable context is no context
    }
  }

  private static List<HeaderFormat> parse(
      String names, String key, Map<String, HeaderFormat> known) {
    List<HeaderFormat> formats = new ArrayList<>();
    for (String name : (names == null ? "" : names).split(",")) {
      String trimmed = name.trim();
      HeaderFormat format = known.get(trimmed);
      if (format == null) {
        throw new IllegalArgumentException(
            key
                + " must be a comma-separated list of "
                + String.join(", ", known.keySet())
                + "; got '"
                + names
                + "'");
      }
      if (!formats.contains(format)) {
        formats.add(format);
      }
    }
    return formats;
  }
}
