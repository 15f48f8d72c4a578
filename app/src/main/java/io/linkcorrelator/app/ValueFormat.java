package io.linkcorrelator.app;

import java.util.Locale;

/**
 * How input values are read ({@code correlator.value.format}). The default is {@link #AVRO} when a
 * value schema is set, else {@link #NONE}.
 */
public enum ValueFormat {
  /** Avro single-object encoding, read with {@code correlator.value.schema}. */
  AVRO,
  /** JSON; a field is addressed by a dotted path ({@code customer.id}) or a JSON Pointer. */
  JSON,
  /** Opaque bytes: no value field can be used and values are never parsed. */
  NONE;

  /**
   * Parses {@code avro}, {@code json} or {@code none}, in any case.
   *
   * @param text the configured value
   * @return the format
   * @throws IllegalArgumentException naming {@code correlator.value.format} and the accepted values
   */
  public static ValueFormat parse(String text) {
    String value = text == null ? "" : text.trim().toUpperCase(Locale.ROOT);
    for (ValueFormat format : values()) {
      if (format.name().equals(value)) {
        return format;
      }
    }
    throw new IllegalArgumentException(
        "correlator.value.format must be one of avro, json, none; got '" + text + "'");
  }
}
