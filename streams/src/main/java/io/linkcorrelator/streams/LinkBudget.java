package io.linkcorrelator.streams;

import io.opentelemetry.api.common.Attributes;

/**
 * How many links one exported span may carry: at most {@code maxLinks} (the tracer's link limit),
 * and the JSON the Datadog Agent makes of them for its {@code _dd.span_links} tag — {@code
 * [{"trace_id":"…","span_id":"…","tracestate":"…","attributes":{"k":"v",…}},…]} — at most {@code
 * maxJsonChars} long, since the Agent truncates a longer tag and corrupts it. Lengths are counted
 * in UTF-8 bytes after JSON escaping, never fewer than the characters the Agent counts.
 */
final class LinkBudget {

  /** The smallest JSON budget accepted: room for a link with a long tracestate and topic. */
  static final int MIN_JSON_CHARS = 2_000;

  private static final int IDS_JSON = "{\"trace_id\":\"\",\"span_id\":\"\"}".length() + 32 + 16;
  private static final int TRACESTATE_JSON = ",\"tracestate\":\"\"".length();
  private static final int ATTRIBUTES_JSON = ",\"attributes\":{}".length();
  private static final int ATTRIBUTE_JSON = "\"\":\"\"".length();

  private final int maxLinks;
  private final int maxJsonChars;
  private int links;
  private int jsonChars;

  LinkBudget(int maxLinks, int maxJsonChars) {
    this.maxLinks = maxLinks;
    this.maxJsonChars = maxJsonChars;
    reset();
  }

  /** Starts the budget of a new span. */
  void reset() {
    links = 0;
    jsonChars = 2; // the array's brackets
  }

  /**
   * Takes one link into the current span's budget if it fits. A link that does not fit even in an
   * empty span is taken alone (every contributor is linked; the span is over budget).
   *
   * @param linkJsonChars {@link #jsonLength} of the link
   * @return false when the link belongs in the next span
   */
  boolean tryTake(int linkJsonChars) {
    int added = linkJsonChars + (links == 0 ? 0 : 1);
    if (links > 0 && (links >= maxLinks || jsonChars + added > maxJsonChars)) {
      return false;
    }
    links++;
    jsonChars += added;
    return true;
  }

  int jsonChars() {
    return jsonChars;
  }

  /** Length of one link's object in the Agent's JSON array. */
  static int jsonLength(String traceState, Attributes attributes) {
    int length = IDS_JSON;
    if (!traceState.isEmpty()) {
      length += TRACESTATE_JSON + escapedLength(traceState);
    }
    if (!attributes.isEmpty()) {
      int[] sum = {ATTRIBUTES_JSON + attributes.size() - 1};
      attributes.forEach(
          (key, value) ->
              sum[0] +=
                  ATTRIBUTE_JSON
                      + escapedLength(key.getKey())
                      + escapedLength(String.valueOf(value)));
      length += sum[0];
    }
    return length;
  }

  /** UTF-8 length of {@code text} as a JSON string body. */
  static int escapedLength(String text) {
    int length = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '"' || c == '\\') {
        length += 2;
      } else if (c < 0x20) {
        length += 6;
      } else if (c < 0x80) {
        length += 1;
      } else if (c < 0x800 || Character.isSurrogate(c)) {
        length += 2; // a surrogate pair is 4 UTF-8 bytes: 2 per half
      } else {
        length += 3;
      }
    }
    return length;
  }
}
