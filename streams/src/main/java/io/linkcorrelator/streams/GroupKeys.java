package io.linkcorrelator.streams;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Group keys as text that keeps every byte: bytes that are valid UTF-8 read as themselves; any
 * other bytes, and text that itself starts with {@value #BINARY_PREFIX}, become {@value
 * #BINARY_PREFIX} and the standard Base64 of the bytes. Two different byte strings never give the
 * same key, and the output record, the span attribute {@code correlator.group_key} and the state
 * stores all show the same text. {@link DeterministicIds#forWindow} takes this text.
 */
public final class GroupKeys {

  /** Prefix of a group key that is Base64 of bytes which are not (plain) UTF-8: {@value}. */
  public static final String BINARY_PREFIX = "base64:";

  private GroupKeys() {}

  /**
   * The group key of these bytes.
   *
   * @param bytes the key's bytes (as its serde writes them)
   * @return its text; null for null
   */
  public static String of(byte[] bytes) {
    if (bytes == null) {
      return null;
    }
    String text = utf8(bytes);
    if (text != null && !text.startsWith(BINARY_PREFIX)) {
      return text;
    }
    return BINARY_PREFIX + Base64.getEncoder().encodeToString(bytes);
  }

  /**
   * The bytes a group key was made of: the inverse of {@link #of(byte[])}.
   *
   * @param key a group key's text
   * @return its bytes
   */
  public static byte[] bytes(String key) {
    return key.startsWith(BINARY_PREFIX)
        ? Base64.getDecoder().decode(key.substring(BINARY_PREFIX.length()))
        : key.getBytes(StandardCharsets.UTF_8);
  }

  private static String utf8(byte[] bytes) {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      CharBuffer chars = decoder.decode(ByteBuffer.wrap(bytes));
      return chars.toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
