package dev.softmaxlosses.lab.data;

import dev.softmaxlosses.lab.BadInputException;
import dev.softmaxlosses.lab.Messages;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Labelled images from folders or zip archives for {@code oneshot --data}: every image file, its class
 * the folder that holds it (its path inside the folder or archive, {@code Alphabet/character01}), its
 * group the first part of that path ({@code Alphabet}), as Omniglot's characters belong to alphabets.
 * When every image lies in one top folder with at least two more folders between (a zip of
 * {@code images_evaluation/Alphabet/character01/...}), that top folder is dropped from the names. Classes
 * of different {@code --data} are kept apart, and so are their groups; a class path without {@code /}
 * belongs to the group of its {@code --data}, named after it. Images directly in the top folder are skipped.
 *
 * @param rows       {@code size x dim} values, row-major, as {@code images} makes them
 * @param dim        values per row
 * @param labels     each row's class, an index into {@code classNames}
 * @param classNames the classes, in the order found
 * @param groupOf    each class's group, an index into {@code groupNames}
 * @param groupNames the groups, in the order found
 */
public record ImageClasses(float[] rows, int dim, int[] labels, List<String> classNames, int[] groupOf,
                           List<String> groupNames) {

    /** The number of images. */
    public int size() {
        return labels.length;
    }

    /**
     * Reads every image of {@code paths} through {@code images}.
     *
     * @param option the option that named them, for messages
     * @throws BadInputException when a path is missing or unreadable, holds no image in a class folder,
     *                           or an image cannot be decoded (naming it)
     */
    public static ImageClasses load(List<Path> paths, GreyImages images, String option) {
        int dim = images.size() * images.size();
        List<float[]> rows = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        Map<String, Integer> classes = new LinkedHashMap<>();
        Map<String, Integer> groups = new LinkedHashMap<>();
        List<Integer> groupOf = new ArrayList<>();
        List<String> classNames = new ArrayList<>();
        List<String> groupNames = new ArrayList<>();
        for (int p = 0; p < paths.size(); p++) {
            Path path = paths.get(p);
            try (ImageArchive archive = ImageArchive.open(path, option)) {
                List<String> files = archive.files().stream().filter(GreyImages::isImageName).toList();
                String top = commonTop(files);
                int before = rows.size();
                for (String file : files) {
                    String name = top == null ? file : file.substring(top.length() + 1);
                    int slash = name.lastIndexOf('/');
                    if (slash < 0) {
                        continue;
                    }
                    String className = name.substring(0, slash);
                    int first = className.indexOf('/');
                    String group = first < 0 ? displayName(path) : className.substring(0, first);
                    int index = p;
                    Integer label = classes.computeIfAbsent(p + "\u0000" + className, k -> {
                        int g = groups.computeIfAbsent(index + "\u0000" + group, x -> {
                            groupNames.add(group);
                            return groupNames.size() - 1;
                        });
                        groupOf.add(g);
                        classNames.add(className);
                        return classNames.size() - 1;
                    });
                    rows.add(images.row(archive.read(file), archive.describe(file)));
                    labels.add(label);
                }
                if (rows.size() == before) {
                    throw new BadInputException(option + " " + Messages.quote(path.toString()) + " holds no image files in"
                            + " class folders (PNG, JPEG, PGM, BMP or GIF files, one folder per class)");
                }
            }
        }
        float[] all = new float[Math.multiplyExact(rows.size(), dim)];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, all, i * dim, dim);
        }
        return new ImageClasses(all, dim, labels.stream().mapToInt(Integer::intValue).toArray(), List.copyOf(classNames),
                groupOf.stream().mapToInt(Integer::intValue).toArray(), List.copyOf(groupNames));
    }

    /** The one top folder every file lies in with at least two more folders between (top/group/class/file), or null. */
    private static String commonTop(List<String> files) {
        String top = null;
        for (String f : files) {
            String[] parts = f.split("/");
            if (parts.length < 4 || (top != null && !top.equals(parts[0]))) {
                return null;
            }
            top = parts[0];
        }
        return top;
    }

    private static String displayName(Path path) {
        Path name = path.toAbsolutePath().normalize().getFileName();
        return name == null ? path.toString() : name.toString();
    }
}
