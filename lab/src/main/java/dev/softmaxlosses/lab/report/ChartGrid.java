package dev.softmaxlosses.lab.report;

import org.knowm.xchart.XYChart;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Several plots side by side, one panel per loss, with one shared legend underneath: the survey's
 * comparison figure. XChart draws each panel; the legend is drawn here because each panel's own
 * legend would take a third of its width.
 */
final class ChartGrid {

    /** A legend entry: a coloured dot and a name. */
    record Entry(String name, Color color) {}

    private ChartGrid() {}

    static BufferedImage draw(List<XYChart> panels, int columns, int cellWidth, int cellHeight, List<Entry> legend) {
        int rows = (panels.size() + columns - 1) / columns;
        int width = columns * cellWidth;
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 14);
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D measure = probe.createGraphics();
        FontMetrics metrics = measure.getFontMetrics(font);
        int lineHeight = metrics.getHeight() + 8;
        int legendLines = 1;
        int x = 20;
        for (Entry e : legend) {
            int w = 22 + metrics.stringWidth(e.name()) + 24;
            if (x + w > width - 20) {
                legendLines++;
                x = 20;
            }
            x += w;
        }
        measure.dispose();
        int legendHeight = legend.isEmpty() ? 0 : legendLines * lineHeight + 16;
        BufferedImage image = new BufferedImage(width, rows * cellHeight + legendHeight, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        for (int i = 0; i < panels.size(); i++) {
            Graphics2D cell = (Graphics2D) g.create((i % columns) * cellWidth, (i / columns) * cellHeight, cellWidth, cellHeight);
            panels.get(i).paint(cell, cellWidth, cellHeight);
            cell.dispose();
        }
        g.setFont(font);
        int y = rows * cellHeight + 8 + metrics.getAscent();
        x = 20;
        for (Entry e : legend) {
            int w = 22 + metrics.stringWidth(e.name()) + 24;
            if (x + w > width - 20) {
                y += lineHeight;
                x = 20;
            }
            g.setColor(e.color());
            int d = 12;
            g.fillOval(x, y - metrics.getAscent() / 2 - d / 2 - 1, d, d);
            g.setColor(Color.DARK_GRAY);
            g.drawString(e.name(), x + 20, y);
            x += w;
        }
        g.dispose();
        return image;
    }
}
