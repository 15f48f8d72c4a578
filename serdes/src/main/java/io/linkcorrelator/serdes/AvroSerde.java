package io.linkcorrelator.serdes;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.util.ClassSecurityValidator;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A Kafka {@link Serde} for an Avro record — a generated class ({@link #of(Class)}) or a {@code
 * GenericRecord} of a given schema ({@link #generic(Schema)}) — in Avro's <a
 * href="https://avro.apache.org/docs/current/specification/#single-object-encoding">single-object
 * encoding</a>: two magic bytes {@code C3 01}, the 8-byte CRC-64-AVRO fingerprint of the writer
 * schema (little-endian), then the Avro binary body.
 *
 * <p>The fingerprint lets a reader resolve records written with an older version of the schema
 * without a schema registry: the serde knows the current schema of {@code T} and every earlier
 * version found on the class path as {@value #HISTORY_PATH}{@code <full name>.v<N>.avsc}, {@code N
 * = 1, 2, …} (see {@link #olderSchemas(Schema)}). A record written with any of them is read as the
 * current {@code T}, fields added since then taking their defaults.
 *
 * <p>A {@code null} record serializes to {@code null} (a tombstone) and back. Bytes that are not a
 * record of a known schema (empty, truncated, wrong magic, unknown fingerprint, a corrupt body,
 * trailing bytes) raise Kafka's {@link SerializationException} with a message that says what was
 * wrong and names the topic; never a {@code NullPointerException} or a silent {@code null}.
 *
 * <p>Thread-safe: one instance can serve every stream thread.
 *
 * @param <T> the generated Avro class, or {@code GenericRecord}
 */
public final class AvroSerde<T extends IndexedRecord>
    implements Serde<T>, Serializer<T>, Deserializer<T> {

  /** Class-path folder of the earlier versions of each schema: {@value}. */
  public static final String HISTORY_PATH = "avro/history/";

  private static final int HEADER_LENGTH = 10;
  private static final byte MAGIC_0 = (byte) 0xC3;
  private static final byte MAGIC_1 = (byte) 0x01;
  private static final Set<String> TRUSTED_CLASS_NAMES = ConcurrentHashMap.newKeySet();

  static {
    ClassSecurityValidator.setGlobal(
        ClassSecurityValidator.composite(
            ClassSecurityValidator.getGlobal(),
            type -> TRUSTED_CLASS_NAMES.contains(type.getName())));
  }

  private final String typeName;
  private final Schema schema;
  private final BinaryMessageEncoder<T> encoder;
  private final BinaryMessageDecoder<T> decoder;
  private final Map<Long, Schema> writerSchemas = new HashMap<>();

  private AvroSerde(GenericData model, Schema schema) {
    this.typeName = schema.getName();
    this.schema = schema;
    this.encoder = new BinaryMessageEncoder<>(model, schema);
    this.decoder = new BinaryMessageDecoder<>(model, schema);
    this.writerSchemas.put(SchemaNormalization.parsingFingerprint64(schema), schema);
    for (Schema older : olderSchemas(schema)) {
      decoder.addSchema(older);
      writerSchemas.put(SchemaNormalization.parsingFingerprint64(older), older);
    }
  }

  /**
   * A serde for the generated Avro class {@code type}, reading every earlier version of its schema
   * kept on the class path.
   *
   * @param type the generated class, e.g. {@code WindowResult.class}
   * @param <T> the generated class
   * @return a thread-safe serde
   */
  public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type) {
    requireNonNull(type, "type");
    SpecificData model = SpecificData.getForClass(type);
    Schema schema = model.getSchema(type);
    trustGeneratedClassesOf(schema);
    return new AvroSerde<>(model, schema);
  }

  /**
   * A serde for {@code GenericRecord}s of {@code schema}, reading every earlier version of it kept
   * on the class path. For values whose class the reader does not have, e.g. to read one field.
   *
   * @param schema the record schema, the one written and read
   * @return a thread-safe serde
   */
  public static AvroSerde<GenericRecord> generic(Schema schema) {
    requireNonNull(schema, "schema");
    return new AvroSerde<>(GenericData.get(), schema);
  }

  /**
   * The earlier versions of {@code current} kept on the class path as {@value #HISTORY_PATH}{@code
   * <full name>.v1.avsc}, {@code .v2.avsc}, … up to the first missing number.
   *
   * @param current the current schema
   * @return the earlier versions, oldest first; empty when there are none
   */
  public static List<Schema> olderSchemas(Schema current) {
    List<Schema> older = new ArrayList<>();
    ClassLoader loader = AvroSerde.class.getClassLoader();
    for (int version = 1; ; version++) {
      String path = HISTORY_PATH + current.getFullName() + ".v" + version + ".avsc";
      try (InputStream in = loader.getResourceAsStream(path)) {
        if (in == null) {
          return older;
        }
        older.add(new Schema.Parser().parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read schema history " + path, e);
      }
    }
  }

  /**
   * The current schema of {@code T}, the one this serde writes.
   *
   * @return the writer schema
   */
  public Schema schema() {
    return schema;
  }

  @Override
  public byte[] serialize(String topic, T data) {
    if (data == null) {
      return null;
    }
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(128);
      encoder.encode(data, out);
      return out.toByteArray();
    } catch (IOException | RuntimeException e) {
      throw new SerializationException(
          "cannot serialize " + typeName + " for topic " + topic + ": " + e, e);
    }
  }

  @Override
  public T deserialize(String topic, byte[] data) {
    if (data == null) {
      return null;
    }
    String what = typeName + " from topic " + topic + " (" + data.length + " bytes)";
    if (data.length < HEADER_LENGTH) {
      throw new SerializationException(
          "cannot deserialize "
              + what
              + ": truncated header, single-object encoding needs at least "
              + HEADER_LENGTH
              + " bytes");
    }
    if (data[0] != MAGIC_0 || data[1] != MAGIC_1) {
      throw new SerializationException(
          String.format(
              "cannot deserialize %s: wrong magic %02X %02X, single-object encoding starts C3 01",
              what, data[0], data[1]));
    }
    long fingerprint = ByteBuffer.wrap(data, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    Schema writer = writerSchemas.get(fingerprint);
    if (writer == null) {
      throw new SerializationException(
          String.format(
              "cannot deserialize %s: unknown writer schema fingerprint %016x; it is neither the"
                  + " current schema of %s (%016x) nor one kept under %s",
              what,
              fingerprint,
              schema.getFullName(),
              SchemaNormalization.parsingFingerprint64(schema),
              HISTORY_PATH));
    }
    // First walk the body without materialising it: a corrupt length prefix then fails on the
    // bytes actually there instead of making Avro allocate the (up to 2 GB) length it claims.
    try {
      BinaryDecoder body =
          DecoderFactory.get()
              .binaryDecoder(data, HEADER_LENGTH, data.length - HEADER_LENGTH, null);
      GenericDatumReader.skip(writer, body);
      int trailing = body.inputStream().available();
      if (trailing > 0) {
        throw new SerializationException(
            "cannot deserialize " + what + ": " + trailing + " trailing bytes after the record");
      }
      return decoder.decode(data);
    } catch (SerializationException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      // EOF, negative lengths, enum or union indexes out of range, malformed UTF-8, ...
      throw new SerializationException(
          "cannot deserialize " + what + ": corrupt or truncated body: " + e, e);
    }
  }

  /**
   * Avro 1.12 instantiates only trusted classes when it reads; trust exactly the generated classes
   * named in {@code schema} (the record, and the records, enums and fixed types it contains).
   */
  private static void trustGeneratedClassesOf(Schema schema) {
    collectNamedTypes(schema, TRUSTED_CLASS_NAMES);
  }

  private static void collectNamedTypes(Schema schema, Set<String> names) {
    switch (schema.getType()) {
      case RECORD -> {
        if (names.add(schema.getFullName())) {
          schema.getFields().forEach(field -> collectNamedTypes(field.schema(), names));
        }
      }
      case ENUM, FIXED -> names.add(schema.getFullName());
      case UNION -> schema.getTypes().forEach(member -> collectNamedTypes(member, names));
      case ARRAY -> collectNamedTypes(schema.getElementType(), names);
      case MAP -> collectNamedTypes(schema.getValueType(), names);
      default -> {}
    }
  }

  @Override
  public Serializer<T> serializer() {
    return this;
  }

  @Override
  public Deserializer<T> deserializer() {
    return this;
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    // Nothing to configure: the schema comes from the generated class.
  }

  @Override
  public void close() {}
}
