package io.linkcorrelator.streams.propagation;

import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.TraceStateBuilder;

/** W3C {@code tracestate} between its header form and OpenTelemetry's {@link TraceState}. */
public final class TraceStates {

  private TraceStates() {}

  /**
   * The header form.
   *
   * @param state the state
   * @return {@code k1=v1,k2=v2} in the state's order; empty for an empty state
   */
  public static String encode(TraceState state) {
    if (state.isEmpty()) {
      return "";
    }
    StringBuilder out = new StringBuilder();
    state.forEach(
        (key, value) -> {
          if (out.length() > 0) {
            out.append(',');
          }
          out.append(key).append('=').append(value);
        });
    return out.toString();
  }

  /**
   * Parses the header form. Members OpenTelemetry rejects (bad key or value) are left out; the
   * order of the rest is kept.
   *
   * @param header the header form; empty gives the empty state
   * @return the state
   */
  public static TraceState decode(String header) {
    if (header.isEmpty()) {
      return TraceState.getDefault();
    }
    String[] members = header.split(",");
    TraceStateBuilder builder = TraceState.builder();
    // The builder puts each new member first: add them last to first to keep the order.
    for (int i = members.length - 1; i >= 0; i--) {
      String member = KafkaHeadersGetter.trim(members[i]);
      int equals = member.indexOf('=');
      if (equals > 0) {
        builder.put(member.substring(0, equals), member.substring(equals + 1));
      }
    }
    return builder.build();
  }
}
