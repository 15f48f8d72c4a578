package io.linkcorrelator.app;

import static java.util.Objects.requireNonNull;

/**
 * What messages are grouped by. When it is not the record key, Kafka Streams repartitions the
 * captured contributions by the new key; each contribution still names its ORIGINAL message.
 *
 * @param source where the group key comes from
 * @param name the header name or the value field (a dotted path into nested records, or a JSON
 *     Pointer for JSON values); null for the record key
 */
public record GroupBy(Source source, String name) {

  /** Where a group key comes from. */
  public enum Source {
    /** The record key (UTF-8 text, or {@code base64:} and the bytes when they are not). */
    RECORD_KEY,
    /** The last header of the given name (in any case), its bytes as for the record key. */
    HEADER,
    /**
     * A field of the value (Avro or JSON, see {@link ValueFormat}): text and numbers as text, Avro
     * {@code bytes}/{@code fixed} as bytes (as for the record key).
     */
    VALUE_FIELD
  }

  /**
   * Validates the name.
   *
   * @throws IllegalArgumentException when a header or field group-by has no name
   */
  public GroupBy {
    requireNonNull(source, "correlator.group.by");
    if (source != Source.RECORD_KEY && (name == null || name.isBlank())) {
      throw new IllegalArgumentException(
          "correlator.group.by "
              + source
              + " needs a name, e.g. header:customer or field:customerId");
    }
  }

  /**
   * Group by the record key (the default): no repartitioning.
   *
   * @return the group-by
   */
  public static GroupBy recordKey() {
    return new GroupBy(Source.RECORD_KEY, null);
  }

  /**
   * Group by a header's value.
   *
   * @param name header name
   * @return the group-by
   */
  public static GroupBy header(String name) {
    return new GroupBy(Source.HEADER, name);
  }

  /**
   * Group by a field of the value.
   *
   * @param path field name, a dotted path into nested records, or (JSON) a JSON Pointer
   * @return the group-by
   */
  public static GroupBy valueField(String path) {
    return new GroupBy(Source.VALUE_FIELD, path);
  }

  /**
   * Parses {@code key}, {@code header:NAME} or {@code field:PATH}.
   *
   * @param text the configured value
   * @return the group-by
   * @throws IllegalArgumentException naming the accepted forms
   */
  public static GroupBy parse(String text) {
    String value = text == null ? "" : text.trim();
    if (value.equals("key")) {
      return recordKey();
    }
    if (value.startsWith("header:")) {
      return header(value.substring("header:".length()));
    }
    if (value.startsWith("field:")) {
      return valueField(value.substring("field:".length()));
    }
    throw new IllegalArgumentException(
        "correlator.group.by must be key, header:NAME or field:PATH; got '" + text + "'");
  }

  boolean repartitions() {
    return source != Source.RECORD_KEY;
  }
}
