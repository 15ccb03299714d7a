package dev.softmaxlosses.lab;

/** Bad input to a command: reported as one {@code error:} line with exit status 2. */
final class BadInputException extends RuntimeException {
    BadInputException(String message) {
        super(message, null, false, false);
    }
}
