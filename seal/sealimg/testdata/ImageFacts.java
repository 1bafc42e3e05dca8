// ImageFacts prints, for each image file, what Java's own ImageIO decoder
// sees: an independent check of the seal PNGs our Go code draws.
// Output per file: width height hasAlpha cornerAlpha centerAlpha maxRed
import java.awt.image.BufferedImage;
import java.io.File;
import javax.imageio.ImageIO;

public class ImageFacts {
    public static void main(String[] args) throws Exception {
        for (String path : args) {
            BufferedImage img = ImageIO.read(new File(path));
            if (img == null) {
                System.out.println(path + " UNREADABLE");
                continue;
            }
            int w = img.getWidth(), h = img.getHeight();
            int corner = (img.getRGB(0, 0) >>> 24) & 0xff;
            int opaque = 0, redDominant = 0;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int argb = img.getRGB(x, y);
                    int a = (argb >>> 24) & 0xff, r = (argb >> 16) & 0xff, g = (argb >> 8) & 0xff, b = argb & 0xff;
                    if (a == 0xff) {
                        opaque++;
                        if (r > 150 && g < 90 && b < 90) redDominant++;
                    }
                }
            }
            System.out.println(w + " " + h + " " + img.getColorModel().hasAlpha() + " " + corner + " " + opaque + " " + redDominant);
        }
    }
}
