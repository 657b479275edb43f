//! Render tests on Mesa lavapipe (`WGPU_BACKEND=vulkan`), by running the built binary:
//! an off-screen posterior screenshot whose bone, muscle and nerve colours must fall where the
//! model's triangles project with the app's own camera, and a real-window smoke test under
//! `xvfb-run`. Missing Vulkan or xvfb-run makes these tests fail with a clear message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use bevy::math::{Mat4, Vec3, Vec4};
use hipback::anatomy::{Layer, Structure};
use hipback::viewer::camera::{Framing, ViewPreset, preset_transform, projection};
use hipback::viewer::{self, look};

const SIZE_PX: u32 = 256;

fn out_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hipback-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn hipback() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hipback"));
    command
        .env("WGPU_BACKEND", "vulkan")
        .env("XDG_RUNTIME_DIR", "/tmp")
        .env("RUST_LOG", "warn");
    command
}

fn require_tool(tool: &str, package: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{tool}` not found: the render tests need it (apt-get install {package})"
    );
}

fn require_vulkan() {
    require_tool("vulkaninfo", "vulkan-tools mesa-vulkan-drivers libvulkan1");
    let output = Command::new("vulkaninfo")
        .arg("--summary")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && text.contains("deviceName"),
        "no Vulkan device (install mesa-vulkan-drivers for lavapipe): {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn check_run(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed ({:?}).\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A structure's triangles in world space (skinned meshes are in their bind pose, which is the
/// rest pose: the model's inverse bind matrices undo the joints' rest transforms).
struct Triangles {
    layer: Layer,
    triangles: Vec<[Vec3; 3]>,
}

fn model_triangles(path: &Path) -> Vec<Triangles> {
    let bytes = std::fs::read(path).unwrap();
    let gltf = gltf::Gltf::from_slice(&bytes).unwrap();
    let blob = gltf.blob.clone().unwrap();
    let mut out = Vec::new();
    let scene = gltf
        .document
        .default_scene()
        .unwrap_or_else(|| gltf.document.scenes().next().unwrap());
    let mut stack: Vec<(gltf::Node, Mat4)> = scene.nodes().map(|n| (n, Mat4::IDENTITY)).collect();
    while let Some((node, parent)) = stack.pop() {
        let world = parent * Mat4::from_cols_array_2d(&node.transform().matrix());
        for child in node.children() {
            stack.push((child, world));
        }
        let (Some(mesh), Some(name)) = (node.mesh(), node.name()) else {
            continue;
        };
        let Some(structure) = Structure::from_gltf_name(name) else {
            continue;
        };
        let to_world = if node.skin().is_some() {
            Mat4::IDENTITY
        } else {
            world
        };
        let mut triangles = Vec::new();
        for primitive in mesh.primitives() {
            let reader = primitive.reader(|_| Some(&blob[..]));
            let positions: Vec<Vec3> = reader
                .read_positions()
                .unwrap()
                .map(|p| to_world.transform_point3(Vec3::from(p)))
                .collect();
            let indices: Vec<usize> = match reader.read_indices() {
                Some(indices) => indices.into_u32().map(|i| i as usize).collect(),
                None => (0..positions.len()).collect(),
            };
            for tri in indices.chunks_exact(3) {
                triangles.push([positions[tri[0]], positions[tri[1]], positions[tri[2]]]);
            }
        }
        out.push(Triangles {
            layer: structure.layer(),
            triangles,
        });
    }
    out
}

/// Pixel coverage masks of each layer's projected triangles (no occlusion).
struct Masks {
    width: usize,
    height: usize,
    by_layer: Vec<(Layer, Vec<bool>)>,
}

impl Masks {
    fn get(&self, layer: Layer) -> &[bool] {
        &self.by_layer.iter().find(|(l, _)| *l == layer).unwrap().1
    }

    fn dilated(&self, layer: Layer, radius_px: i32) -> Vec<bool> {
        let mask = self.get(layer);
        let (w, h) = (self.width as i32, self.height as i32);
        let mut out = vec![false; mask.len()];
        for y in 0..h {
            for x in 0..w {
                if !mask[(y * w + x) as usize] {
                    continue;
                }
                for dy in -radius_px..=radius_px {
                    for dx in -radius_px..=radius_px {
                        let (nx, ny) = (x + dx, y + dy);
                        if nx >= 0 && ny >= 0 && nx < w && ny < h {
                            out[(ny * w + nx) as usize] = true;
                        }
                    }
                }
            }
        }
        out
    }
}

fn project_masks(structures: &[Triangles], view: ViewPreset, width: usize, height: usize) -> Masks {
    let camera = preset_transform(view, Framing::default());
    let p = projection();
    let aspect = width as f32 / height as f32;
    let clip_from_world =
        Mat4::perspective_rh(p.fov, aspect, p.near, p.far) * camera.to_matrix().inverse();
    let to_px = |v: Vec3| {
        let clip = clip_from_world * Vec4::new(v.x, v.y, v.z, 1.0);
        let ndc = clip.truncate() / clip.w;
        (
            (ndc.x + 1.0) * 0.5 * width as f32,
            (1.0 - ndc.y) * 0.5 * height as f32,
        )
    };
    let mut by_layer: Vec<(Layer, Vec<bool>)> = Layer::ALL
        .iter()
        .map(|l| (*l, vec![false; width * height]))
        .collect();
    for structure in structures {
        let mask = &mut by_layer
            .iter_mut()
            .find(|(l, _)| *l == structure.layer)
            .unwrap()
            .1;
        for tri in &structure.triangles {
            let [a, b, c] = tri.map(to_px);
            fill_triangle(mask, width, height, a, b, c);
        }
    }
    Masks {
        width,
        height,
        by_layer,
    }
}

fn fill_triangle(
    mask: &mut [bool],
    width: usize,
    height: usize,
    a: (f32, f32),
    b: (f32, f32),
    c: (f32, f32),
) {
    let min_x = a.0.min(b.0).min(c.0).floor().max(0.0) as i64;
    let max_x = a.0.max(b.0).max(c.0).ceil().min(width as f32 - 1.0) as i64;
    let min_y = a.1.min(b.1).min(c.1).floor().max(0.0) as i64;
    let max_y = a.1.max(b.1).max(c.1).ceil().min(height as f32 - 1.0) as i64;
    let edge = |p: (f32, f32), q: (f32, f32), r: (f32, f32)| {
        (q.0 - p.0) * (r.1 - p.1) - (q.1 - p.1) * (r.0 - p.0)
    };
    let area = edge(a, b, c);
    if area.abs() < 1e-9 {
        return;
    }
    for y in min_y..=max_y {
        for x in min_x..=max_x {
            let p = (x as f32 + 0.5, y as f32 + 0.5);
            let (w0, w1, w2) = (edge(b, c, p), edge(c, a, p), edge(a, b, p));
            let inside = if area > 0.0 {
                w0 >= 0.0 && w1 >= 0.0 && w2 >= 0.0
            } else {
                w0 <= 0.0 && w1 <= 0.0 && w2 <= 0.0
            };
            if inside {
                mask[y as usize * width + x as usize] = true;
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Background,
    Bone,
    Muscle,
    Nerve,
    Other,
}

/// Hue in degrees, saturation and value of an sRGB pixel.
fn hsv(rgb: [u8; 3]) -> (f32, f32, f32) {
    let [r, g, b] = rgb.map(|c| f32::from(c) / 255.0);
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let delta = max - min;
    let hue = if delta < 1e-6 {
        0.0
    } else if max == r {
        60.0 * ((g - b) / delta).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / delta + 2.0)
    } else {
        60.0 * ((r - g) / delta + 4.0)
    };
    let saturation = if max > 0.0 { delta / max } else { 0.0 };
    (hue, saturation, max)
}

/// Classifies a pixel by the atlas colours (tolerant to lighting: hue and saturation bands).
fn classify(rgb: [u8; 3]) -> Class {
    let background = look::BACKGROUND.to_srgba();
    let bg = [background.red, background.green, background.blue].map(|c| (c * 255.0) as i32);
    if rgb
        .iter()
        .zip(bg)
        .all(|(&c, b)| (i32::from(c) - b).abs() <= 6)
    {
        return Class::Background;
    }
    let (hue, saturation, value) = hsv(rgb);
    if (35.0..=65.0).contains(&hue) && saturation >= 0.55 && value >= 0.3 {
        Class::Nerve
    } else if (hue >= 345.0 || hue <= 22.0) && saturation >= 0.45 && value >= 0.12 {
        Class::Muscle
    } else if (20.0..=70.0).contains(&hue) && saturation <= 0.35 && value >= 0.35 {
        Class::Bone
    } else {
        Class::Other
    }
}

#[test]
fn posterior_screenshot_shows_bone_muscle_and_nerve_where_they_project() {
    require_vulkan();
    let model = viewer::default_model_path();
    assert!(
        model.is_file(),
        "{}: bundled model missing",
        model.display()
    );
    let out = out_dir().join("posterior.png");
    let started = Instant::now();
    let output = hipback()
        .args([
            "screenshot",
            "--view",
            "posterior",
            "--layers",
            "bones,muscles,nerve",
        ])
        .arg("--size")
        .arg(format!("{SIZE_PX}x{SIZE_PX}"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    check_run(&output, "hipback screenshot");
    println!("screenshot took {:.1} s", started.elapsed().as_secs_f32());
    let image = image::open(&out).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), (SIZE_PX, SIZE_PX));

    let (w, h) = (SIZE_PX as usize, SIZE_PX as usize);
    let masks = project_masks(&model_triangles(&model), ViewPreset::Posterior, w, h);
    let classes: Vec<Class> = image.pixels().map(|p| classify(p.0)).collect();
    let inside = |layer: Layer| masks.dilated(layer, 3);
    let union: Vec<bool> = {
        let (b, m, n) = (
            inside(Layer::Bones),
            inside(Layer::Muscles),
            inside(Layer::Nerves),
        );
        (0..w * h).map(|i| b[i] || m[i] || n[i]).collect()
    };

    // Outside everything that projects, the frame is background.
    let outside: Vec<usize> = (0..w * h).filter(|&i| !union[i]).collect();
    let outside_bg = outside
        .iter()
        .filter(|&&i| classes[i] == Class::Background)
        .count();
    assert!(
        outside.len() > w * h / 10,
        "the model fills the whole frame; the framing is wrong"
    );
    assert!(
        outside_bg * 100 >= outside.len() * 97,
        "only {outside_bg} of {} pixels outside the model are background",
        outside.len()
    );

    for (class, layer, min_pixels) in [
        (Class::Bone, Layer::Bones, 150),
        (Class::Muscle, Layer::Muscles, 1500),
        (Class::Nerve, Layer::Nerves, 20),
    ] {
        let region = inside(layer);
        let of_class: Vec<usize> = (0..w * h).filter(|&i| classes[i] == class).collect();
        let within = of_class.iter().filter(|&&i| region[i]).count();
        println!(
            "{class:?}: {} pixels, {within} inside its projection ({} px projected)",
            of_class.len(),
            masks.get(layer).iter().filter(|&&m| m).count()
        );
        assert!(
            of_class.len() >= min_pixels,
            "{class:?}: only {} pixels of its colour (want ≥ {min_pixels})",
            of_class.len()
        );
        assert!(
            within * 100 >= of_class.len() * 95,
            "{class:?}: only {within} of {} pixels lie where the {layer:?} project",
            of_class.len()
        );
    }
}

fn non_blank(path: &Path) -> (f32, usize) {
    let image = image::open(path).unwrap().to_rgb8();
    let lum: Vec<f32> = image
        .pixels()
        .map(|p| 0.2126 * f32::from(p[0]) + 0.7152 * f32::from(p[1]) + 0.0722 * f32::from(p[2]))
        .collect();
    let mean = lum.iter().sum::<f32>() / lum.len() as f32;
    let variance = lum.iter().map(|l| (l - mean).powi(2)).sum::<f32>() / lum.len() as f32;
    let mut colours: Vec<[u8; 3]> = image.pixels().map(|p| p.0.map(|c| c >> 3)).collect();
    colours.sort_unstable();
    colours.dedup();
    (variance.sqrt(), colours.len())
}

#[test]
fn window_smoke_test_under_xvfb() {
    require_vulkan();
    require_tool("xvfb-run", "xvfb");
    let out = out_dir().join("smoke.png");
    let started = Instant::now();
    let output = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24"])
        .arg(env!("CARGO_BIN_EXE_hipback"))
        .args(["--smoke-test-frames", "60", "--smoke-screenshot"])
        .arg(&out)
        .env("WGPU_BACKEND", "vulkan")
        .env("XDG_RUNTIME_DIR", "/tmp")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    check_run(&output, "hipback under xvfb-run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!(
        "{stdout}window run took {:.1} s",
        started.elapsed().as_secs_f32()
    );
    assert!(stdout.contains("smoke: "), "{stdout}");
    assert!(out.is_file(), "no window screenshot at {}", out.display());
    let (std_dev, colours) = non_blank(&out);
    assert!(
        std_dev > 10.0 && colours > 50,
        "window screenshot looks blank: luminance std dev {std_dev:.1}, {colours} colours"
    );
}

#[test]
fn a_missing_vulkan_driver_gives_one_line_and_exit_code_2() {
    let output = hipback()
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .args(["screenshot", "--size", "64x64", "--out"])
        .arg(out_dir().join("never.png"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("hipback: "))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("no usable GPU or Vulkan driver"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
