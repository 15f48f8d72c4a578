package io.linkcorrelator.streams.propagation;

import io.opentelemetry.context.propagation.TextMapGetter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * One message's trace-context headers, found in a single pass over its headers, so that trying
 * every format in turn reads each header once instead of scanning all headers per name. It follows
 * {@link KafkaHeadersGetter}'s rules (any case, the last of a repeated header wins, values trimmed
 * of spaces and tabs); a name outside {@link #NAMES} is looked up in the headers themselves.
 */
final class HeaderIndex {

  /** Every header name the extracting formats read, lower case. */
  static final List<String> NAMES =
      List.of(
          "traceparent",
          "tracestate",
          DatadogFormat.TRACE_ID,
          DatadogFormat.PARENT_ID,
          DatadogFormat.PRIORITY,
          DatadogFormat.TAGS,
          "b3",
          "x-b3-traceid",
          "x-b3-spanid",
          "x-b3-sampled",
          "x-b3-flags",
          "uber-trace-id");

  /** Slots of NAMES by name length, so that a header's name is compared with few candidates. */
  private static final int[][] BY_LENGTH;

  /** Reads a {@link HeaderIndex} as a carrier. */
  static final TextMapGetter<HeaderIndex> GETTER =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(HeaderIndex carrier) {
          return KafkaHeadersGetter.INSTANCE.keys(carrier.headers);
        }

        @Override
        public String get(HeaderIndex carrier, String key) {
          return carrier == null || key == null ? null : carrier.get(key);
        }
      };

  static {
    int longest = NAMES.stream().mapToInt(String::length).max().orElse(0);
    List<List<Integer>> byLength = new ArrayList<>();
    for (int length = 0; length <= longest; length++) {
      byLength.add(new ArrayList<>());
    }
    for (int slot = 0; slot < NAMES.size(); slot++) {
      byLength.get(NAMES.get(slot).length()).add(slot);
    }
    BY_LENGTH =
        byLength.stream()
            .map(slots -> slots.stream().mapToInt(Integer::intValue).toArray())
            .toArray(int[][]::new);
  }

  private final Headers headers;

  /** The last header of each name in NAMES, or null when there is none. */
  private final Header[] found = new Header[NAMES.size()];

  private HeaderIndex(Headers headers) {
    this.headers = headers;
  }

  /** Indexes the trace-context headers of a message; null headers index as none. */
  static HeaderIndex of(Headers headers) {
    HeaderIndex index = new HeaderIndex(headers);
    if (headers != null) {
      for (Header header : headers) {
        int slot = slot(header.key());
        if (slot >= 0) {
          index.found[slot] = header; // the last of a repeated header wins
        }
      }
    }
    return index;
  }

  /** The value bytes of the last header named {@code key} (one of {@link #NAMES}), or null. */
  byte[] raw(String key) {
    int slot = slot(key);
    Header header = slot < 0 ? null : found[slot];
    return header == null ? null : header.value();
  }

  private String get(String key) {
    int slot = slot(key);
    if (slot < 0) {
      return KafkaHeadersGetter.INSTANCE.get(headers, key);
    }
    Header header = found[slot];
    if (header == null) {
      return null;
    }
    byte[] value = header.value();
    return value == null ? "" : KafkaHeadersGetter.trim(new String(value, StandardCharsets.UTF_8));
  }

  private static int slot(String name) {
    if (name == null || name.length() >= BY_LENGTH.length) {
      return -1;
    }
    for (int slot : BY_LENGTH[name.length()]) {
      if (NAMES.get(slot).equalsIgnoreCase(name)) {
        return slot;
      }
    }
    return -1;
  }
}
