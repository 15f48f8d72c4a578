package io.linkcorrelator.embedded;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One span as an OTLP exporter sent it to the {@link OtlpReceiver}: the decoded protobuf span, the
 * resource it came with, and the transport it arrived on. Ids are lowercase hex, attributes are
 * plain Java values ({@code String}, {@code Long}, {@code Double}, {@code Boolean}, {@code List}).
 *
 * @param span the span exactly as decoded from the {@code ExportTraceServiceRequest}
 * @param resource the resource of its {@code ResourceSpans}
 * @param transport {@code "http/protobuf"} or {@code "grpc"}
 * @param receivedAtEpochNanos when the request carrying it arrived at the receiver, before the
 *     receiver decoded it (wall clock, to compare with the span's end; see {@link ReceivedRequest})
 */
public record ReceivedSpan(
    Span span, Resource resource, String transport, long receivedAtEpochNanos) {

  private static final HexFormat HEX = HexFormat.of();

  /**
   * A link of a received span.
   *
   * @param traceId linked trace id, 32 lowercase hex characters
   * @param spanId linked span id, 16 lowercase hex characters
   * @param traceState the link's W3C tracestate, empty when none
   * @param attributes the link's attributes
   */
  public record Link(
      String traceId, String spanId, String traceState, Map<String, Object> attributes) {}

  /**
   * The span name.
   *
   * @return the name
   */
  public String name() {
    return span.getName();
  }

  /**
   * The trace id.
   *
   * @return 32 lowercase hex characters
   */
  public String traceId() {
    return hex(span.getTraceId());
  }

  /**
   * The span id.
   *
   * @return 16 lowercase hex characters
   */
  public String spanId() {
    return hex(span.getSpanId());
  }

  /**
   * The parent span id.
   *
   * @return 16 lowercase hex characters, or the empty string for a root span
   */
  public String parentSpanId() {
    return hex(span.getParentSpanId());
  }

  /**
   * The span's attributes.
   *
   * @return attribute name to value, in the order received
   */
  public Map<String, Object> attributes() {
    return toMap(span.getAttributesList());
  }

  /**
   * The resource's attributes (service.name, …).
   *
   * @return attribute name to value
   */
  public Map<String, Object> resourceAttributes() {
    return toMap(resource.getAttributesList());
  }

  /**
   * The span's links, in the order received.
   *
   * @return the links
   */
  public List<Link> links() {
    return span.getLinksList().stream()
        .map(
            link ->
                new Link(
                    hex(link.getTraceId()),
                    hex(link.getSpanId()),
                    link.getTraceState(),
                    toMap(link.getAttributesList())))
        .toList();
  }

  /**
   * How many links the sending SDK dropped (its span limits); 0 when every link was sent.
   *
   * @return {@code dropped_links_count}
   */
  public int droppedLinksCount() {
    return span.getDroppedLinksCount();
  }

  /**
   * Whether one of this span's links points at the given span.
   *
   * @param traceId 32 hex characters
   * @param spanId 16 hex characters
   * @return true when linked
   */
  public boolean linksTo(String traceId, String spanId) {
    return links().stream()
        .anyMatch(link -> link.traceId().equals(traceId) && link.spanId().equals(spanId));
  }

  static String hex(ByteString bytes) {
    return HEX.formatHex(bytes.toByteArray());
  }

  static Map<String, Object> toMap(List<KeyValue> attributes) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (KeyValue attribute : attributes) {
      map.put(attribute.getKey(), toJava(attribute.getValue()));
    }
    return map;
  }

  private static Object toJava(AnyValue value) {
    return switch (value.getValueCase()) {
      case STRING_VALUE -> value.getStringValue();
      case BOOL_VALUE -> value.getBoolValue();
      case INT_VALUE -> value.getIntValue();
      case DOUBLE_VALUE -> value.getDoubleValue();
      case ARRAY_VALUE ->
          value.getArrayValue().getValuesList().stream().map(ReceivedSpan::toJava).toList();
      case KVLIST_VALUE -> toMap(value.getKvlistValue().getValuesList());
      case BYTES_VALUE -> value.getBytesValue().toByteArray();
      case VALUE_NOT_SET -> null;
      default -> value.toString();
    };
  }
}
