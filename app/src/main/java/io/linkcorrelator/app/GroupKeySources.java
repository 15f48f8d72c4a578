package io.linkcorrelator.app;

import io.linkcorrelator.streams.GroupKeys;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.avro.generic.GenericFixed;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Where the application finds a group key besides the record key: a value field or a header. The
 * text rule itself is the library's {@link GroupKeys}.
 */
final class GroupKeySources {

  private GroupKeySources() {}

  /**
   * The group key of a value field: strings and numbers as their text, {@code bytes} and {@code
   * fixed} by their bytes; null for null.
   */
  static String ofField(Object field) {
    if (field == null) {
      return null;
    }
    if (field instanceof ByteBuffer buffer) {
      ByteBuffer copy = buffer.duplicate();
      byte[] bytes = new byte[copy.remaining()];
      copy.get(bytes);
      return GroupKeys.of(bytes);
    }
    if (field instanceof GenericFixed fixed) {
      return GroupKeys.of(fixed.bytes());
    }
    return GroupKeys.of(field.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** The bytes of the last header named {@code name} (in any case), or null when there is none. */
  static byte[] lastHeader(Headers headers, String name) {
    byte[] last = null;
    for (Header header : headers) {
      if (name.equalsIgnoreCase(header.key())) {
        last = header.value() == null ? new byte[0] : header.value();
      }
    }
    return last;
  }
}
