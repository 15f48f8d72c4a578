# The correlator (and the traffic generator) in a JRE image. Build the jars first:
#   ./mvnw -B -q package -DskipTests
FROM eclipse-temurin:17-jre
WORKDIR /app
COPY topology/target/link-correlator.jar /app/link-correlator.jar
COPY demo/target/link-correlator-demo.jar /app/link-correlator-demo.jar
COPY config/correlator.properties /app/correlator.properties
ENTRYPOINT ["java", "-jar", "/app/link-correlator.jar", "/app/correlator.properties"]
