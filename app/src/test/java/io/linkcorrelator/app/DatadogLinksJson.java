package io.linkcorrelator.app;

import io.linkcorrelator.streams.propagation.TraceStates;
import io.opentelemetry.sdk.trace.data.LinkData;
import java.util.List;

/**
 * The JSON the Datadog Agent makes of a span's links for its {@code _dd.span_links} tag, built
 * independently of the library's link budget so tests check the budget against the real string.
 */
final class DatadogLinksJson {

  private DatadogLinksJson() {}

  static String of(List<LinkData> links) {
    StringBuilder json = new StringBuilder("[");
    for (int i = 0; i < links.size(); i++) {
      LinkData link = links.get(i);
      if (i > 0) {
        json.append(',');
      }
      json.append("{\"trace_id\":\"").append(link.getSpanContext().getTraceId());
      json.append("\",\"span_id\":\"").append(link.getSpanContext().getSpanId()).append('"');
      String state = TraceStates.encode(link.getSpanContext().getTraceState());
      if (!state.isEmpty()) {
        json.append(",\"tracestate\":").append(quote(state));
      }
      if (!link.getAttributes().isEmpty()) {
        json.append(",\"attributes\":{");
        boolean[] first = {true};
        link.getAttributes()
            .forEach(
                (key, value) -> {
                  if (!first[0]) {
                    json.append(',');
                  }
                  first[0] = false;
                  json.append(quote(key.getKey())).append(':').append(quote(String.valueOf(value)));
                });
        json.append('}');
      }
      json.append('}');
    }
    return json.append(']').toString();
  }

  private static String quote(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }
}
