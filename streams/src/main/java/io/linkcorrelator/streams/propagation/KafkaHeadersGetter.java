package io.linkcorrelator.streams.propagation;

import io.opentelemetry.context.propagation.TextMapGetter;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Reads propagation headers from Kafka {@link Headers}: names match in any case, the last of a
 * repeated header wins, values are UTF-8 (malformed bytes become U+FFFD, never an exception) and
 * trimmed of spaces and tabs.
 */
public final class KafkaHeadersGetter implements TextMapGetter<Headers> {

  /** The shared instance; stateless and thread-safe. */
  public static final KafkaHeadersGetter INSTANCE = new KafkaHeadersGetter();

  private KafkaHeadersGetter() {}

  @Override
  public Iterable<String> keys(Headers carrier) {
    Set<String> keys = new LinkedHashSet<>();
    if (carrier != null) {
      for (Header header : carrier) {
        keys.add(header.key());
      }
    }
    return keys;
  }

  @Override
  public String get(Headers carrier, String key) {
    if (carrier == null || key == null) {
      return null;
    }
    byte[] last = null;
    boolean found = false;
    for (Header header : carrier) {
      if (key.equalsIgnoreCase(header.key())) {
        last = header.value();
        found = true;
      }
    }
    if (!found) {
      return null;
    }
    return last == null ? "" : trim(new String(last, StandardCharsets.UTF_8));
  }

  /** Trims spaces and tabs only (not other whitespace), as the propagation specs do. */
  static String trim(String value) {
    int start = 0;
    int end = value.length();
    while (start < end && isBlank(value.charAt(start))) {
      start++;
    }
    while (end > start && isBlank(value.charAt(end - 1))) {
      end--;
    }
    return value.substring(start, end);
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t';
  }
}
