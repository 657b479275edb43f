//! Render tests on Mesa lavapipe (`WGPU_BACKEND=vulkan`), by running the built binary:
//! off-screen screenshots compared with a depth-tested map of which structure the model's
//! triangles put in front at each pixel (rasterised here on the CPU with the app's own camera),
//! every view and layer set, a failed PNG write, and a real-window smoke test under
//! `xvfb-run`. Missing Vulkan or xvfb-run makes these tests fail with a clear message.
#![expect(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test, with its message"
)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use bevy::math::{Mat4, Quat, Vec3, Vec4};
use bevy::transform::components::Transform;
use common::{assert_one_line_error, assert_success, bundled_model, temp_dir};
use hipback::anatomy::{Layer, Side, Structure};
use hipback::viewer::camera::{Framing, ViewPreset, preset_transform, projection};
use hipback::viewer::look;

fn hipback() -> Command {
    common::hipback(env!("CARGO_BIN_EXE_hipback"))
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

/// Renders `args` off-screen to `out` and returns the picture.
fn screenshot(out: &Path, args: &[&str]) -> image::RgbImage {
    let started = Instant::now();
    let output = hipback()
        .arg("screenshot")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert_success(&output, &format!("hipback screenshot {args:?}"));
    println!(
        "screenshot {args:?} took {:.1} s",
        started.elapsed().as_secs_f32()
    );
    image::open(out).unwrap().to_rgb8()
}

/// A structure's triangles in world space (read with the shared glb reader: node
/// transforms in full, skinned meshes in their bind pose, which is the rest pose).
struct Triangles {
    structure: Structure,
    triangles: Vec<[Vec3; 3]>,
}

fn model_triangles(path: &Path) -> Vec<Triangles> {
    common::glb::load(path)
        .meshes
        .values()
        .filter_map(|m| {
            Structure::from_gltf_name(&m.node_name).map(|structure| Triangles {
                structure,
                triangles: m.mesh.triangles().collect(),
            })
        })
        .collect()
}

/// Which structure is in front at each pixel, by a z-buffer over every triangle of the shown
/// layers, with the app's camera for `view`.
struct IdMap {
    front: Vec<Option<Structure>>,
}

fn expected_map(
    structures: &[Triangles],
    layers: &[Layer],
    view: ViewPreset,
    width: usize,
    height: usize,
) -> IdMap {
    expected_map_from(
        structures,
        layers,
        preset_transform(view, Framing::default()),
        width,
        height,
    )
}

/// The map seen from any camera transform (for the wrong-side camera a side swap would give).
fn expected_map_from(
    structures: &[Triangles],
    layers: &[Layer],
    camera: Transform,
    width: usize,
    height: usize,
) -> IdMap {
    let p = projection();
    let aspect = width as f32 / height as f32;
    let clip_from_world =
        Mat4::perspective_rh(p.fov, aspect, p.near, p.far) * camera.to_matrix().inverse();
    let to_screen = |v: Vec3| {
        let clip = clip_from_world * Vec4::new(v.x, v.y, v.z, 1.0);
        let ndc = clip.truncate() / clip.w;
        Vec3::new(
            (ndc.x + 1.0) * 0.5 * width as f32,
            (1.0 - ndc.y) * 0.5 * height as f32,
            clip.w,
        )
    };
    let mut depth = vec![f32::INFINITY; width * height];
    let mut front = vec![None; width * height];
    for s in structures
        .iter()
        .filter(|s| layers.contains(&s.structure.layer()))
    {
        for tri in &s.triangles {
            let [a, b, c] = tri.map(to_screen);
            rasterize(a, b, c, width, height, |i, z| {
                if z < depth[i] {
                    depth[i] = z;
                    front[i] = Some(s.structure);
                }
            });
        }
    }
    IdMap { front }
}

/// The camera a left/right swap would put in place of `view`'s: the same orbit mirrored
/// across the body's midline (yaw negated).
fn side_swapped_camera(view: ViewPreset) -> Transform {
    let (yaw, pitch) = view.yaw_pitch_rad();
    let rotation = Quat::from_rotation_y(-yaw) * Quat::from_rotation_x(-pitch);
    let framing = Framing::default();
    let focus = Vec3::new(-framing.focus.x, framing.focus.y, framing.focus.z);
    Transform {
        translation: focus + rotation * Vec3::new(0.0, 0.0, framing.radius_m),
        rotation,
        scale: Vec3::ONE,
    }
}

/// Calls `plot(pixel index, depth)` for every pixel centre inside the screen triangle
/// (x, y in pixels, z = view depth, interpolated linearly: close enough for the z order of
/// neighbouring surfaces at this size).
fn rasterize(
    a: Vec3,
    b: Vec3,
    c: Vec3,
    width: usize,
    height: usize,
    mut plot: impl FnMut(usize, f32),
) {
    if a.z <= 0.0 || b.z <= 0.0 || c.z <= 0.0 {
        return;
    }
    let edge = |p: Vec3, q: Vec3, x: f32, y: f32| (q.x - p.x) * (y - p.y) - (q.y - p.y) * (x - p.x);
    let area = edge(a, b, c.x, c.y);
    if area.abs() < 1e-9 {
        return;
    }
    let min_x = a.x.min(b.x).min(c.x).floor().max(0.0) as i64;
    let max_x = a.x.max(b.x).max(c.x).ceil().min(width as f32 - 1.0) as i64;
    let min_y = a.y.min(b.y).min(c.y).floor().max(0.0) as i64;
    let max_y = a.y.max(b.y).max(c.y).ceil().min(height as f32 - 1.0) as i64;
    for y in min_y..=max_y {
        for x in min_x..=max_x {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            // Barycentric weights of a, b and c.
            let wa = edge(b, c, px, py) / area;
            let wb = edge(c, a, px, py) / area;
            let wc = edge(a, b, px, py) / area;
            if wa >= 0.0 && wb >= 0.0 && wc >= 0.0 {
                plot(
                    y as usize * width + x as usize,
                    wa * a.z + wb * b.z + wc * c.z,
                );
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
    Joint,
    Other,
}

fn class_of_layer(layer: Layer) -> Class {
    match layer {
        Layer::Bones => Class::Bone,
        Layer::Discs => Class::Other,
        Layer::Muscles => Class::Muscle,
        Layer::Nerves => Class::Nerve,
        Layer::Joints => Class::Joint,
        Layer::Skin => Class::Other,
    }
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
    } else if (195.0..=230.0).contains(&hue) && saturation >= 0.3 {
        Class::Joint
    } else {
        Class::Other
    }
}

/// The share of pixels (where the expected map or the picture shows the model) whose colour
/// class matches the structure in front.
fn agreement(image: &image::RgbImage, expected: &IdMap) -> (f32, usize) {
    let mut counted = 0;
    let mut agree = 0;
    for (i, pixel) in image.pixels().enumerate() {
        let want = expected.front[i].map_or(Class::Background, |s| class_of_layer(s.layer()));
        let got = classify(pixel.0);
        if want == Class::Background && got == Class::Background {
            continue;
        }
        counted += 1;
        if want == got {
            agree += 1;
        }
    }
    (agree as f32 / counted.max(1) as f32, counted)
}

/// The picture with the pixels whose class disagrees with the expected map in magenta, to see
/// where a failure comes from.
fn disagreement_image(image: &image::RgbImage, expected: &IdMap) -> image::RgbImage {
    let mut out = image.clone();
    for (i, pixel) in out.pixels_mut().enumerate() {
        let want = expected.front[i].map_or(Class::Background, |s| class_of_layer(s.layer()));
        if want != classify(pixel.0) {
            *pixel = image::Rgb([255, 0, 255]);
        }
    }
    out
}

const SIZE_PX: u32 = 256;

/// The rendered picture agrees with the depth-tested map of which structure is in front
/// (≥ 90 % of the model's pixels), from behind, from behind-right (asymmetric: a mirrored
/// camera puts every bone and muscle elsewhere) and from the subject's left.
#[test]
fn screenshots_agree_with_the_depth_tested_expected_map() {
    require_vulkan();
    let dir = temp_dir("render-depth");
    let structures = model_triangles(&bundled_model());
    let layers = [Layer::Bones, Layer::Muscles, Layer::Nerves];
    let (w, h) = (SIZE_PX as usize, SIZE_PX as usize);
    for view in [ViewPreset::Posterior, ViewPreset::Oblique, ViewPreset::Left] {
        let name = format!("{view:?}").to_lowercase();
        let out = dir.join(format!("{name}.png"));
        let image = screenshot(
            &out,
            &[
                "--view",
                &name,
                "--layers",
                "bones,muscles,nerve",
                "--size",
                &format!("{SIZE_PX}x{SIZE_PX}"),
            ],
        );
        assert_eq!(image.dimensions(), (SIZE_PX, SIZE_PX));
        let expected = expected_map(&structures, &layers, view, w, h);
        let (share, counted) = agreement(&image, &expected);
        println!(
            "{view:?}: {:.1} % of {counted} model pixels agree",
            share * 100.0
        );
        assert!(
            counted > w * h / 20,
            "{view:?}: the model covers only {counted} pixels"
        );
        if share < 0.90 {
            let diff = dir.join(format!("{name}-disagree.png"));
            disagreement_image(&image, &expected)
                .save(&diff)
                .expect("write the disagreement image");
            panic!(
                "{view:?}: only {:.1} % of pixels show the structure in front ({}; \
                 disagreeing pixels in magenta: {})",
                share * 100.0,
                out.display(),
                diff.display()
            );
        }
        // The camera a left/right swap would give: the picture must not fit it, so this test
        // catches a side swap (the posterior view is nearly symmetric, so only the others can).
        if view != ViewPreset::Posterior {
            let swapped = expected_map_from(&structures, &layers, side_swapped_camera(view), w, h);
            let (swapped_share, _) = agreement(&image, &swapped);
            println!(
                "{view:?}: {:.1} % agree with the side-swapped camera",
                swapped_share * 100.0
            );
            assert!(
                swapped_share < 0.8,
                "{view:?}: the picture fits the side-swapped camera too ({swapped_share})"
            );
        }
    }
}

/// Each side lands where it belongs in the image: with only the right sciatic nerve squeezed
/// (tight piriformis: it glows and swells), the brighter nerve is on the image's right from
/// behind and on its left from the front. The sides are written here, not taken from the
/// camera code, and a mirrored picture fails.
#[test]
fn the_left_nerve_lands_on_the_correct_side_of_the_image() {
    require_vulkan();
    let dir = temp_dir("render-side");
    let structures = model_triangles(&bundled_model());
    let (w, h) = (160usize, 160usize);
    for (view, left_on_image_left) in [(ViewPreset::Posterior, true), (ViewPreset::Anterior, false)]
    {
        let name = format!("{view:?}").to_lowercase();
        // tight_piriformis squeezes the right nerve only: it glows and swells, so the two
        // nerves differ in the picture and a mirrored picture cannot pass.
        let image = screenshot(
            &dir.join(format!("{name}.png")),
            &[
                "--view",
                &name,
                "--layers",
                "nerve",
                "--scenario",
                "tight_piriformis",
                "--size",
                "160x160",
            ],
        );
        let expected = expected_map(&structures, &[Layer::Nerves], view, w, h);
        let mean_x = |side: Side| {
            let xs: Vec<f32> = (0..w * h)
                .filter(|&i| expected.front[i].is_some_and(|s| s.side == side))
                .map(|i| (i % w) as f32)
                .collect();
            xs.iter().sum::<f32>() / xs.len() as f32
        };
        let (left_x, right_x) = (mean_x(Side::Left), mean_x(Side::Right));
        assert_eq!(
            left_x < right_x,
            left_on_image_left,
            "{view:?}: expected map"
        );
        // The nerve pixels of the picture (only the nerves are drawn), by half of the image.
        let background = image.get_pixel(0, 0).0;
        let split = (left_x + right_x) / 2.0;
        let (mut left_half, mut right_half) = (Vec::new(), Vec::new());
        for (x, _, p) in image.enumerate_pixels() {
            if p.0.iter().zip(background).any(|(a, b)| a.abs_diff(b) > 40) {
                let brightness: f32 = p.0.iter().map(|c| f32::from(*c)).sum();
                if (x as f32) < split {
                    left_half.push(brightness);
                } else {
                    right_half.push(brightness);
                }
            }
        }
        assert!(
            left_half.len() > 100 && right_half.len() > 100,
            "{view:?}: {} and {} nerve pixels",
            left_half.len(),
            right_half.len()
        );
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        // The subject's right nerve, squeezed, is on the image's right from behind and on its
        // left from the front.
        let (squeezed, other) = if left_on_image_left {
            (mean(&right_half), mean(&left_half))
        } else {
            (mean(&left_half), mean(&right_half))
        };
        assert!(
            squeezed > other + 30.0,
            "{view:?}: the squeezed nerve's half is not the brighter one ({squeezed:.0} against {other:.0})"
        );
    }
}

/// Seen from the subject's left, the back of the body is on the image's right (the subject
/// faces the image's left); from the right, the other way round. The sciatic nerve runs behind
/// the hip and thigh bones, so its pixels lie on the back's side of the bones' pixels. Written
/// here from anatomy, not taken from the camera code: a side swap of the Left or Right preset
/// fails it.
#[test]
fn side_views_show_the_back_where_the_side_says() {
    require_vulkan();
    let dir = temp_dir("render-side-views");
    for (view, back_on_image_right) in [(ViewPreset::Left, true), (ViewPreset::Right, false)] {
        let name = format!("{view:?}").to_lowercase();
        let image = screenshot(
            &dir.join(format!("{name}.png")),
            &[
                "--view",
                &name,
                "--layers",
                "bones,nerve",
                "--size",
                "160x160",
            ],
        );
        let mean_x = |class: Class| {
            let xs: Vec<f32> = image
                .enumerate_pixels()
                .filter(|(_, _, p)| classify(p.0) == class)
                .map(|(x, _, _)| x as f32)
                .collect();
            assert!(xs.len() > 100, "{view:?}: {} {class:?} pixels", xs.len());
            xs.iter().sum::<f32>() / xs.len() as f32
        };
        let (nerve, bone) = (mean_x(Class::Nerve), mean_x(Class::Bone));
        println!("{view:?}: nerve at x {nerve:.1}, bones at x {bone:.1}");
        if back_on_image_right {
            assert!(
                nerve > bone + 3.0,
                "{view:?}: the back is not on the image's right"
            );
        } else {
            assert!(
                nerve < bone - 3.0,
                "{view:?}: the back is not on the image's left"
            );
        }
    }
}

/// Every view renders, each layer set covers the area its triangles project to, and each
/// layer shown alone draws its colour and no other.
#[test]
fn every_view_and_layer_set_renders() {
    require_vulkan();
    let dir = temp_dir("render-views");
    let structures = model_triangles(&bundled_model());
    let runs = [
        (ViewPreset::Anterior, "bones", Class::Bone),
        (ViewPreset::Posterior, "muscles", Class::Muscle),
        (ViewPreset::Left, "nerve", Class::Nerve),
        (ViewPreset::Right, "si", Class::Joint),
        // The skin alone is a faint warm veil: bone-coloured or "other", never a tissue colour.
        (ViewPreset::Superior, "skin", Class::Other),
        (
            ViewPreset::Oblique,
            "bones,muscles,nerve,si,skin",
            Class::Muscle,
        ),
    ];
    const SIDE: usize = 96;
    for (view, layer_names, class) in runs {
        let name = format!("{view:?}").to_lowercase();
        let image = screenshot(
            &dir.join(format!("{name}.png")),
            &["--view", &name, "--layers", layer_names, "--size", "96x96"],
        );
        let layers: Vec<Layer> = layer_names
            .split(',')
            .map(|l| hipback::viewer::layers::parse_layer(l).unwrap())
            .collect();
        let expected = expected_map(&structures, &layers, view, SIDE, SIDE);
        let expected_area = expected.front.iter().filter(|f| f.is_some()).count();
        let mut counts = std::collections::BTreeMap::new();
        for p in image.pixels() {
            *counts
                .entry(format!("{:?}", classify(p.0)))
                .or_insert(0usize) += 1;
        }
        let of = |c: Class| counts.get(&format!("{c:?}")).copied().unwrap_or(0);
        let drawn = SIDE * SIDE - of(Class::Background);
        println!("{view:?} {layer_names}: {counts:?}, {expected_area} px expected");
        // Anti-aliased edges blend into the background: allow the one-pixel rim around the
        // projected area, plus 20 %.
        let inside = |x: i64, y: i64| {
            x >= 0
                && y >= 0
                && (x as usize) < SIDE
                && (y as usize) < SIDE
                && expected.front[y as usize * SIDE + x as usize].is_some()
        };
        let rim = (0..SIDE * SIDE)
            .filter(|&i| {
                let (x, y) = ((i % SIDE) as i64, (i / SIDE) as i64);
                !inside(x, y)
                    && [(1, 0), (-1, 0), (0, 1), (0, -1)]
                        .iter()
                        .any(|(dx, dy)| inside(x + dx, y + dy))
            })
            .count();
        let tolerance = expected_area as f32 * 0.2 + rim as f32;
        assert!(
            (drawn as f32 - expected_area as f32).abs() <= tolerance,
            "{view:?} {layer_names}: {drawn} px drawn, {expected_area} expected"
        );
        if class == Class::Other {
            for tissue in [Class::Muscle, Class::Nerve, Class::Joint] {
                assert!(
                    of(tissue) <= 3,
                    "{view:?} {layer_names}: {tissue:?}: {counts:?}"
                );
            }
        } else {
            assert!(of(class) >= 20, "{view:?} {layer_names}: {counts:?}");
        }
        if !layer_names.contains(',') && class != Class::Other {
            for other in [Class::Bone, Class::Muscle, Class::Nerve, Class::Joint] {
                if other != class {
                    assert!(
                        of(other) <= 3,
                        "{view:?} {layer_names}: {other:?} drawn: {counts:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_failed_png_write_is_one_line_and_exit_code_2() {
    require_vulkan();
    // /proc exists, so the argument check passes; creating a file there fails.
    let output = hipback()
        .args([
            "screenshot",
            "--size",
            "64x64",
            "--out",
            "/proc/hipback-test.png",
        ])
        .output()
        .unwrap();
    assert_one_line_error(&output, "/proc/hipback-test.png");
}

#[test]
fn window_smoke_test_under_xvfb() {
    require_vulkan();
    require_tool("xvfb-run", "xvfb");
    let out = temp_dir("render-smoke").join("smoke.png");
    let started = Instant::now();
    let output = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24"])
        .arg(env!("CARGO_BIN_EXE_hipback"))
        .args(["--smoke-test-frames", "20", "--smoke-screenshot"])
        .arg(&out)
        .env("WGPU_BACKEND", "vulkan")
        .env("XDG_RUNTIME_DIR", "/tmp")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert_success(&output, "hipback under xvfb-run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!(
        "{stdout}window run took {:.1} s",
        started.elapsed().as_secs_f32()
    );
    // The app reports where its 3D view is (right of the panel).
    let viewport = stdout
        .lines()
        .find_map(|l| l.strip_prefix("smoke: 3d viewport "))
        .unwrap_or_else(|| panic!("no viewport line in: {stdout}"));
    let numbers: Vec<u32> = viewport
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let [x0, y0, vw, vh] = numbers[..] else {
        panic!("bad viewport line: {viewport}");
    };
    let image = image::open(&out).unwrap().to_rgb8();
    assert!(x0 > 100, "no panel left of the 3D view (x0 = {x0})");
    let mut bone = 0;
    let mut muscle = 0;
    for y in y0..(y0 + vh).min(image.height()) {
        for x in x0..(x0 + vw).min(image.width()) {
            match classify(image.get_pixel(x, y).0) {
                Class::Bone => bone += 1,
                Class::Muscle => muscle += 1,
                _ => {}
            }
        }
    }
    println!("3D view: {bone} bone and {muscle} muscle pixels");
    // The start view (from behind, skin faint) shows the buttock muscles and some bone.
    assert!(muscle > 5_000, "{muscle} muscle pixels in the 3D view");
    assert!(bone > 200, "{bone} bone pixels in the 3D view");
}

#[test]
fn a_missing_vulkan_driver_gives_one_line_and_exit_code_2() {
    let output = hipback()
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .args(["screenshot", "--size", "64x64", "--out"])
        .arg(temp_dir("render-novk").join("never.png"))
        .output()
        .unwrap();
    assert_one_line_error(&output, "no usable GPU or Vulkan driver");
}

/// `tight_piriformis` against `healthy` from behind: the pictures differ where the right
/// piriformis and nerve are (and the right buttock muscle that fades to show them), and
/// nowhere on the left.
#[test]
fn a_scenario_changes_the_right_side_only() {
    require_vulkan();
    let dir = temp_dir("render-scenario");
    let size = "256x256";
    let (w, h) = (SIZE_PX as usize, SIZE_PX as usize);
    // Every structure layer, without the heat map (its own test below).
    let layers = "bones,muscles,nerve,si,skin";
    let healthy = screenshot(
        &dir.join("healthy.png"),
        &[
            "--view",
            "posterior",
            "--size",
            size,
            "--scenario",
            "healthy",
            "--layers",
            layers,
        ],
    );
    let tight = screenshot(
        &dir.join("tight.png"),
        &[
            "--view",
            "posterior",
            "--size",
            size,
            "--scenario",
            "tight_piriformis",
            "--layers",
            layers,
        ],
    );
    let changed: Vec<bool> = healthy
        .pixels()
        .zip(tight.pixels())
        .map(|(a, b)| {
            a.0.iter()
                .zip(b.0)
                .map(|(x, y)| (i32::from(*x) - i32::from(y)).abs())
                .max()
                .unwrap_or(0)
                > 12
        })
        .collect();
    let structures = model_triangles(&bundled_model());
    let mask = |names: &[&str]| -> Vec<bool> {
        let chosen: Vec<Triangles> = structures
            .iter()
            .filter(|s| names.contains(&s.structure.gltf_name().as_str()))
            .map(|s| Triangles {
                structure: s.structure,
                triangles: s.triangles.clone(),
            })
            .collect();
        let layers = [Layer::Muscles, Layer::Nerves];
        let map = expected_map(&chosen, &layers, ViewPreset::Posterior, w, h);
        // Dilated by 3 px: edges, pulses and trigger points sit on the surfaces.
        let mut out = vec![false; w * h];
        for (i, f) in map.front.iter().enumerate() {
            if f.is_some() {
                let (x, y) = ((i % w) as i64, (i / w) as i64);
                for dy in -3..=3 {
                    for dx in -3..=3 {
                        let (nx, ny) = (x + dx, y + dy);
                        if nx >= 0 && ny >= 0 && (nx as usize) < w && (ny as usize) < h {
                            out[ny as usize * w + nx as usize] = true;
                        }
                    }
                }
            }
        }
        out
    };
    let right = mask(&["piriformis_r", "sciatic_nerve_r", "gluteus_maximus_r"]);
    let piriformis = mask(&["piriformis_r"]);
    let nerve = mask(&["sciatic_nerve_r"]);
    let left = mask(&[
        "piriformis_l",
        "sciatic_nerve_l",
        "gluteus_maximus_l",
        "gluteus_medius_l",
        "gluteus_minimus_l",
    ]);
    let count = |region: &[bool]| (0..w * h).filter(|&i| changed[i] && region[i]).count();
    let total = changed.iter().filter(|c| **c).count();
    let outside_right = (0..w * h).filter(|&i| changed[i] && !right[i]).count();
    let on_left = (0..w * h)
        .filter(|&i| changed[i] && left[i] && !right[i])
        .count();
    println!(
        "{total} pixels changed: {} on the piriformis, {} on the nerve, {outside_right} outside the right-side structures, {on_left} on the left",
        count(&piriformis),
        count(&nerve)
    );
    assert!(count(&piriformis) >= 30, "the piriformis barely changed");
    assert!(count(&nerve) >= 30, "the nerve barely changed");
    assert_eq!(on_left, 0, "pixels changed on the left side");
    assert!(
        outside_right * 100 <= total * 2,
        "{outside_right} of {total} changed pixels lie outside the right-side structures"
    );
}

/// The heat map from behind with `tight_piriformis`: heat on the right buttock, none on the
/// left (nothing changes on the left half against `healthy`).
#[test]
fn the_heat_map_shows_on_the_right_buttock_only() {
    require_vulkan();
    let dir = temp_dir("render-heat");
    let size = "256x256";
    let (w, h) = (SIZE_PX as usize, SIZE_PX as usize);
    let args = |scenario: &'static str| {
        vec![
            "--view",
            "posterior",
            "--size",
            size,
            "--scenario",
            scenario,
        ]
    };
    let healthy = screenshot(&dir.join("healthy.png"), &args("healthy"));
    let tight = screenshot(&dir.join("tight.png"), &args("tight_piriformis"));
    // The buttocks' projected extent: where the gluteus maximus muscles project.
    let structures = model_triangles(&bundled_model());
    let map = expected_map(&structures, &[Layer::Muscles], ViewPreset::Posterior, w, h);
    // A 2 cm margin at the natal cleft (8 px here): the right side's zones reach the
    // midline, where the two buttocks meet.
    let margin_px = 8;
    let buttock = |side: Side| -> Vec<usize> {
        (0..w * h)
            .filter(|&i| (i % w).abs_diff(w / 2) > margin_px)
            .filter(|&i| {
                map.front[i].is_some_and(|s| {
                    s.kind == hipback::anatomy::StructureKind::GluteusMaximus && s.side == side
                })
            })
            .collect()
    };
    // Heat colours: warm (inferno's orange to yellow) where the healthy picture had none.
    let warm = |p: [u8; 3]| {
        let (hue, saturation, value) = hsv(p);
        (15.0..=60.0).contains(&hue) && saturation > 0.5 && value > 0.5
    };
    let heated = |pixels: &[usize]| {
        pixels
            .iter()
            .filter(|&&i| {
                let (x, y) = ((i % w) as u32, (i / w) as u32);
                warm(tight.get_pixel(x, y).0) && !warm(healthy.get_pixel(x, y).0)
            })
            .count()
    };
    let (right, left) = (buttock(Side::Right), buttock(Side::Left));
    let (on_right, on_left) = (heated(&right), heated(&left));
    println!(
        "heated: {on_right} of {} right-buttock pixels, {on_left} of {} left",
        right.len(),
        left.len()
    );
    assert!(
        on_right * 3 >= right.len(),
        "little heat on the right buttock"
    );
    assert_eq!(on_left, 0, "heat on the left buttock");
    // Nothing changes on the left half of the picture (the subject's left, from behind),
    // body or background, past the margin at the midline.
    let left_half_changed = healthy
        .enumerate_pixels()
        .filter(|(x, y, p)| {
            let q = tight.get_pixel(*x, *y).0;
            (*x as usize) < w / 2 - margin_px
                && p.0
                    .iter()
                    .zip(q)
                    .any(|(a, b)| (i32::from(*a) - i32::from(b)).abs() > 12)
        })
        .count();
    assert_eq!(left_half_changed, 0, "pixels changed on the left half");
}

/// `hipback record` writes an animated GIF whose frames move, or numbered PNGs.
#[test]
fn record_writes_an_animated_clip() {
    require_vulkan();
    let dir = temp_dir("render-record");
    let gif = dir.join("clip.gif");
    let output = hipback()
        .args([
            "record",
            "--scenario",
            "tight_piriformis",
            "--seconds",
            "2",
            "--fps",
            "4",
            "--size",
            "128x96",
            "--out",
        ])
        .arg(&gif)
        .output()
        .unwrap();
    assert_success(&output, "hipback record");
    let bytes = std::fs::read(&gif).unwrap();
    use image::AnimationDecoder as _;
    let frames = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&bytes))
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    assert_eq!(frames.len(), 8);
    assert_eq!(frames[0].buffer().dimensions(), (128, 96));
    // The clip moves: the scenario eases in and the pulses run.
    let first = frames[0].buffer();
    let last = frames[7].buffer();
    let differing = first
        .pixels()
        .zip(last.pixels())
        .filter(|(a, b)| a.0 != b.0)
        .count();
    assert!(
        differing > 50,
        "first and last frame nearly equal ({differing} px)"
    );

    let frames_dir = dir.join("frames");
    let output = hipback()
        .args([
            "record",
            "--scenario",
            "si_pressure_rocking",
            "--seconds",
            "1",
            "--fps",
            "3",
            "--size",
            "96x64",
            "--frames",
        ])
        .arg(&frames_dir)
        .output()
        .unwrap();
    assert_success(&output, "hipback record --frames");
    for i in 0..3 {
        let path = frames_dir.join(format!("frame_{i:04}.png"));
        assert_eq!(image::open(&path).unwrap().to_rgb8().dimensions(), (96, 64));
    }

    let output = hipback()
        .args(["record", "--scenario", "no_such", "--out"])
        .arg(dir.join("x.gif"))
        .output()
        .unwrap();
    assert_one_line_error(&output, "no such scenario");
    let output = hipback()
        .args([
            "record",
            "--scenario",
            "healthy",
            "--out",
            "/nonexistent-dir/x.gif",
        ])
        .output()
        .unwrap();
    assert_one_line_error(&output, "folder does not exist");
}

/// The screenshot anti-aliases its picture on the CPU after capture (`viewer::fxaa`) instead
/// of with Bevy's FXAA pass; a recorded frame still uses the pass. The two pictures of the same
/// still state agree: a rounding step here and there, and a few pixels where a float decided
/// an edge test the other way.
#[test]
fn the_screenshot_is_anti_aliased_as_bevys_fxaa_pass_would() {
    require_vulkan();
    let dir = temp_dir("render-fxaa");
    let frames = dir.join("frames");
    let output = hipback()
        .args([
            "record",
            "--scenario",
            "healthy",
            "--seconds",
            "0.5",
            "--fps",
            "2",
            "--size",
            "640x360",
            "--view",
            "posterior",
            "--frames",
        ])
        .arg(&frames)
        .output()
        .unwrap();
    assert_success(&output, "hipback record --frames");
    let in_frame = image::open(frames.join("frame_0000.png"))
        .unwrap()
        .to_rgb8();
    let after_capture = screenshot(
        &dir.join("shot.png"),
        &[
            "--scenario",
            "healthy",
            "--size",
            "640x360",
            "--view",
            "posterior",
        ],
    );
    assert_eq!(in_frame.dimensions(), after_capture.dimensions());
    let steps: Vec<u8> = in_frame
        .pixels()
        .zip(after_capture.pixels())
        .map(|(a, b)| (0..3).map(|c| a.0[c].abs_diff(b.0[c])).max().unwrap_or(0))
        .collect();
    let over = |level: u8| steps.iter().filter(|s| **s > level).count();
    println!(
        "pixels differing: {} by more than 0, {} by more than 1, {} by more than 8 (of {})",
        over(0),
        over(1),
        over(8),
        steps.len()
    );
    // Measured: 22 of 230 400 by more than one step, 5 by more than 8. Without any FXAA
    // the outline alone differs by more than 8 in thousands of pixels.
    assert!(
        over(1) <= 200,
        "{} pixels differ by more than one step",
        over(1)
    );
    assert!(
        over(8) <= 50,
        "{} pixels differ by more than 8 steps",
        over(8)
    );
}
