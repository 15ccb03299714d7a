# Sourced by ./run-tests, ./softmax-lab and .ci/run: exports JAVA_HOME pointing at a JDK 21 or newer.
# Order: $JAVA_HOME if it is 21+, then `java` on the PATH if it is 21+, then the newest 21+ JDK in the
# system's JVM folders. With none, prints one line saying what to install and returns 1.

java_feature_version() { # prints the feature version (17, 21, 25) of the java binary $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n 1
}

jdk_ok() { # $1: a JDK home; true when it has java and javac of version 21+
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  local v; v=$(java_feature_version "$1/bin/java")
  [ -n "$v" ] && [ "$v" -ge 21 ]
}

find_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && jdk_ok "$JAVA_HOME"; then return 0; fi
  local j
  if j=$(command -v java 2>/dev/null); then
    j=$(readlink -f "$j"); j=${j%/bin/java}
    if jdk_ok "$j"; then export JAVA_HOME="$j"; return 0; fi
  fi
  local best="" bestv=0 d v
  # SOFTMAXLOSSES_JDK_DIRS (space-separated globs) replaces the usual places, for tests and odd systems.
  for d in ${SOFTMAXLOSSES_JDK_DIRS:-/usr/lib/jvm/* /usr/local/lib/jvm/* /opt/java/* /opt/jdk* /Library/Java/JavaVirtualMachines/*/Contents/Home}; do
    [ -d "$d" ] && [ ! -L "$d" ] || continue
    jdk_ok "$d" || continue
    v=$(java_feature_version "$d/bin/java")
    if [ "$v" -gt "$bestv" ]; then best=$d; bestv=$v; fi
  done
  if [ -n "$best" ]; then export JAVA_HOME="$best"; return 0; fi
  echo "error: softmax-losses needs a JDK 21 or newer (java and javac); none found in JAVA_HOME, on the PATH or in /usr/lib/jvm. Install one (for example Temurin 21 or 25) and set JAVA_HOME to it." >&2
  return 1
}

find_jdk && export PATH="$JAVA_HOME/bin:$PATH"
